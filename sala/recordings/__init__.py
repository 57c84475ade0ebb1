"""Recordings: capture, the processing pipeline, playback formats, and the recordings catalogue."""
