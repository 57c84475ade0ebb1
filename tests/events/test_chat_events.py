"""Chat's version-2 events (reactions, edits, deletions, clears) stay out of BBB's webhooks,
which report sent public messages only, under the id the room gave them."""

from __future__ import annotations

from sala.events import types
from sala.events.log import MeetingEvent
from sala.events.mapping import map_event


def event(kind: str, data: dict[str, object], n: int = 7) -> MeetingEvent:
    return MeetingEvent(n, "m", 1_800_000_000_000, kind, "w_ada", data)


def test_edits_deletes_reactions_and_clears_are_not_webhooks() -> None:
    for kind, data in (
        (types.CHAT_REACTION, {"message": "m_1", "emoji": "👍", "on": True}),
        (types.CHAT_EDITED, {"message": "m_1", "text": "x"}),
        (types.CHAT_DELETED, {"message": "m_1"}),
        (types.CHAT_CLEARED, {}),
        (types.LAYOUT_PUSHED, {"layout": "VIDEO_FOCUS"}),
        (types.GUEST_POLICY_CHANGED, {"policy": "ALWAYS_DENY"}),
        (types.WHITEBOARD_UPDATED, {"presentation": "p", "page": 1, "shape": {}}),
    ):
        assert map_event(event(kind, data), {}, None) is None, kind


def test_room_state_kept_for_a_takeover_is_not_a_webhook() -> None:
    """Poll stops and publications and `away` are logged so that another process can rebuild
    the room; BBB's webhooks have no such events, so receivers see nothing new."""
    for kind, data in (
        (types.POLL_STOPPED, {"poll": {"id": "p_1"}}),
        (types.POLL_PUBLISHED, {"poll": {"id": "p_1"}}),
        (types.AWAY_CHANGED, {"away": True}),
    ):
        assert map_event(event(kind, data), {}, None) is None, kind
