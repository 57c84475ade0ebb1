"""The playback formats a recording is processed into: `presentation` (a page in the browser)
and `video` (one MP4)."""
