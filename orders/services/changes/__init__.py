"""Changes made at the cart after the order was sent, passed on to the warehouse (`OrderChange`)."""
