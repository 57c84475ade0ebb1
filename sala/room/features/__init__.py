"""The room's features, one module each, behind the port of room/port.py: each owns its state
and the message types it lists in `routes()`; the room dispatches to them under its lock."""
