"""The chaos harness behind ``manage.py chaos_sync``: the whole sync cycle under faults and SIGKILLs.

``scenario`` (the orders, from a seed) and ``sandboxes`` (the cart and warehouse sandboxes, in their own
process) use no Django, so the sandbox process never loads it; ``cycle`` (the merchant, one pass, the
state and the verdict), ``workers`` (the processes that sync) and ``harness`` (the run) do.
"""
