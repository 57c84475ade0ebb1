"""LTI 1.3 (LTI Advantage): sala as a tool learning platforms launch without a plugin."""
