"""sala: self-hostable video conferencing that speaks the BigBlueButton API."""

__version__ = "0.1.0"
