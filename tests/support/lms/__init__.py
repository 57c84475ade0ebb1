"""A small learning platform on loopback for the LTI tests: see core.py."""
