"""A small learning platform on loopback for the LTI tests, per the IMS specs: see core.py and
the parts beside it."""
