"""Security tests: each class of attack an outside probe tried, kept so it stays fixed."""
