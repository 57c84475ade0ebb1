"""A small LMS for the LTI tests, on loopback, exactly per the LTI 1.3 specs."""
