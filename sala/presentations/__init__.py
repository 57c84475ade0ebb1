"""Presentations: documents fetched or uploaded, converted to page images, and kept per meeting."""
