"""Orders out: an order's way from `new` to the warehouse, and back from a hold.

- `claims`: the one owner of an order's delivery state (claim, uncertain, delivered, held,
  canceled, retry later, release); every conditional "still ours" update is here.
- `deliver`: the entry points, every due order of a connection (`pending_orders_deliver`) and one
  order at a time (`order_deliver`), which asks the warehouse first when a send may have landed.
- `batch`: orders claimed, sent and recorded in batches (`BatchDeliverer`).
- `sending`: the sends themselves, on worker threads, with no database writes.
- `reference_check`: whether what the warehouse holds under a reference is this order.
- `holds`: held orders checked again when their cause is fixed, and the retry a person asks for.
- `trial_order`: a test order a merchant sends through the same path to check SKUs and shipping.
"""
