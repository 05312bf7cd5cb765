"""The sync benchmark (`manage.py bench_sync`): what one order sync costs us, measured against the API floor.

- ``sandboxes``: the Squarespace and Bergen sandboxes tuned for volume (what they build per request kept,
  requests numbered across both), so that the emulators are never what is measured;
- ``seeding``: the deterministic scenario (N orders, M SKUs) both copies of the sandboxes are seeded with;
- ``process``: the sandboxes in their own process, so their CPU never counts as ours;
- ``replay``: the API floor, the sync's own requests replayed by a plain client;
- ``measure``: the measured steps (sync, inventory, admin changelist) and the figures;
- ``report``: the targets each figure is judged against, and the human summary.

Nothing here is imported by the pipeline; only this package and the command import it.
"""
