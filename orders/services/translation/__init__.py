"""From the cart's order to the warehouse's: our rows, the mapping rules, the warehouse reference.

- `cart_fields`: the cart's canonical order onto our `Order` and `OrderLine` rows (fitted, JSON-safe).
- `translate`: SKU aliases, shipping codes and validation (holds with a reason), and the
  `WarehouseOrder` the connector sends.
- `addresses`: countries and US and Canadian states as the codes a warehouse takes, pure lookups.
- `field_limits`: the ship-to fitted to the warehouse's declared field limits (transliterated,
  shortened, or held), pure.
- `references`: the warehouse reference (`cust_ref`) of an order: reserved, proposed, moved with
  the account.
- `cust_ref`: the candidate references for an order number, pure string work.
"""
