"""`bids`: BIDS dataset folders."""
