"""A small loopback LMS for the LTI tests, per the IMS specs (see each module)."""
