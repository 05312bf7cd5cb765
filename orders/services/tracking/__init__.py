"""Tracking, the way back: the warehouse's shipments in, the tracking out to the cart.

- `shipments`: each parcel the warehouse reports stored once; the order's shipped state follows.
- `push`: the due tracking told to the cart once, with backoff when it refuses.
"""
