"""The browser room: its page, assets and WebSocket protocol, and the hand-off from `join`."""
