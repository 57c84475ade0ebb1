"""Janus WebRTC Server: configuration, a supervised local process, and an asyncio client."""
