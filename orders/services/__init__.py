"""What changes an order's state, grouped by the part of its way it serves (reads are in
`orders.selectors`):

- `intake`: orders in from a cart, each stored once.
- `translation`: the cart's order onto our rows, the mapping rules, the warehouse reference.
- `delivery`: the claim and the send to the warehouse, holds released, test orders.
- `tracking`: shipments in from the warehouse, tracking out to the cart.
- `records`: history, problems, connection health, sync runs and their leases.
- `bulk`, `lookups`: the fast writes and reads the paths above share.
"""
