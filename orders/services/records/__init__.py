"""What the pipeline writes down about itself, for the next run and for a person.

- `history`: the one writer of an order's history (`OrderEvent`), one at a time or in bulk.
- `problems`: one open problem per thing that needs a person, resolved when it later works.
- `health`: a connection's retry state after each run, and the backoff every retry uses.
- `sync_runs`: the run's row, its counts and checkpoints, and runs closed when their worker died.
- `locks`: the lease a run holds by conditional UPDATE.
"""
