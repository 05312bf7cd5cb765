"""The merchant pages. Every view here is wrapped by `portal.scope.merchant_required` in
`portal/urls.py` and reads data only through `portal.scope.scoped()`."""
