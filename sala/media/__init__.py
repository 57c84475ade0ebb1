"""Media: the Janus WebRTC server sala starts or connects to, and the adapter that drives it."""
