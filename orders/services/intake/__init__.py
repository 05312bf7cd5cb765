"""Intake: orders in from a cart connection, each stored exactly once.

One package, so that the way an order comes in reads in one place and its parts call each other
only through public names:

- `pages`: the import window and the run over the cart's pages (`cart_orders_import`); each page is
  sorted into known orders, new orders and orders we cannot read (`cart_page_store`).
- `importer`: what the parts of one run share (`Importer`: the connection, the run, its counts, the
  translation context read on first use, the new orders handed to the delivery).
- `rejected`: orders the cart sent in a form we cannot store, held or named on the run.
- `skipping`: why a new order is not imported, and the record of it (`SkippedOrder`).
- `new_orders`: storing new orders, a page's at once; on a collision with another run, one at a
  time through the same path.
- `known_orders`: changes at the cart to orders we already have, before and after delivery.
- `prepare`: translate and validate a pending order, give it a reference, set it new or held.
- `cust_refs`: choosing the warehouse reference (`cust_ref`) of one order, or of a batch in memory.
"""
