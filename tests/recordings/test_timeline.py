"""The recording's clock and timeline from the meeting's log: only marked stretches count, laid
end to end; what changed while not recording shows as the state at the next start."""

from __future__ import annotations

import base64
from typing import Any

from pycrdt import Doc, Text

from sala.events import types
from sala.events.log import MeetingEvent
from sala.recordings.timeline import Clock, build_timeline, segments_of

T0 = 1_800_000_000_000


def log(*entries: tuple[int, str, dict[str, Any]]) -> list[MeetingEvent]:
    return [
        MeetingEvent(n, "m", T0 + at, kind, "w_ada", data)
        for n, (at, kind, data) in enumerate(entries, start=1)
    ]


START, STOP = types.RECORDING_STARTED, types.RECORDING_STOPPED


def test_segments_pair_marks_and_the_last_runs_to_the_end() -> None:
    events = log((1000, START, {}), (3000, STOP, {}), (3500, STOP, {}), (5000, START, {}))
    assert segments_of(events, T0 + 9000) == [(T0 + 1000, T0 + 3000), (T0 + 5000, T0 + 9000)]
    assert segments_of(log((1000, STOP, {})), T0 + 2000) == []


def test_the_clock_skips_what_was_not_recorded() -> None:
    clock = Clock([(T0 + 1000, T0 + 3000), (T0 + 5000, T0 + 9000)])
    assert clock.duration_ms == 6000
    assert [clock.at(T0 + at) for at in (0, 1000, 2500, 3000, 4000, 5000, 8000, 99_000)] == [
        0, 0, 1500, 2000, 2000, 2000, 5000, 6000,
    ]  # fmt: skip
    assert not clock.recorded(T0 + 4000) and clock.recorded(T0 + 5500)
    # A webcam from 2 s to 6 s shows in two pieces of the recording.
    assert clock.pieces(T0 + 2000, T0 + 6000) == [
        (T0 + 2000, T0 + 3000, 1000),
        (T0 + 5000, T0 + 6000, 2000),
    ]


def notes_update(text: str) -> str:
    doc: Doc[Text] = Doc()
    doc.get("notes", type=Text).insert(0, text)
    return base64.b64encode(doc.get_update()).decode()


def test_the_timeline_shows_what_was_recorded() -> None:
    a = {"presentation": "deck"}
    events = log(
        (0, types.PRESENTATION_CHANGED, {**a, "page": 1}),
        (500, types.CHAT_MESSAGE, {"message": "too early", "sender_name": "Ada"}),
        (1000, START, {}),
        (1500, types.CHAT_MESSAGE, {"message": "hello", "sender_name": "Bea"}),
        (1600, types.CHAT_MESSAGE, {"message": "psst", "sender_name": "Bea", "to": "w_ada"}),
        (2000, types.PAGE_CHANGED, {**a, "page": 2}),
        (3000, STOP, {}),
        # Turned twice while not recording: the recording resumes on page 4.
        (3500, types.PAGE_CHANGED, {**a, "page": 3}),
        (4000, types.PAGE_CHANGED, {**a, "page": 4}),
        (4200, types.NOTES_UPDATED, {"update": notes_update("agenda")}),
        (5000, START, {}),
        (6000, types.WHITEBOARD_ADDED, {**a, "page": 4, "shape": {"id": "s1"}}),
    )
    timeline = build_timeline(events, T0 + 7000)
    assert timeline.duration_ms == 4000
    assert timeline.slides == [
        {"t": 0, "presentation": "deck", "page": 1},
        {"t": 1000, "presentation": "deck", "page": 2},
        {"t": 2000, "presentation": "deck", "page": 4},
    ]
    assert timeline.chat == [{"t": 500, "name": "Bea", "text": "hello"}]
    assert timeline.drawings == [
        {"t": 3000, "presentation": "deck", "page": 4, "add": {"id": "s1"}}
    ]
    assert timeline.notes == "agenda"
    # Written while not recording: shown from where the recording resumed.
    assert timeline.notes_history == [{"t": 2000, "text": "agenda"}]


def notes_edits(*texts: str) -> list[str]:
    """Successive updates of one document: each appends its text."""
    doc: Doc[Text] = Doc()
    text = doc.get("notes", type=Text)
    found = []
    for piece in texts:
        before = doc.get_state()
        text.insert(len(text), piece)
        found.append(base64.b64encode(doc.get_update(before)).decode())
    return found


def test_the_notes_history_keeps_a_text_every_few_seconds() -> None:
    first, second, third = notes_edits("a", "b", "c")
    events = log(
        (0, START, {}),
        (1000, types.NOTES_UPDATED, {"update": first}),
        (3000, types.NOTES_UPDATED, {"update": second}),
        (9000, types.NOTES_UPDATED, {"update": third}),
    )
    timeline = build_timeline(events, T0 + 10_000)
    assert timeline.notes_history == [{"t": 1000, "text": "ab"}, {"t": 9000, "text": "abc"}]


def test_the_chat_shows_edits_and_never_deleted_or_cleared_messages() -> None:
    def sent(message_id: str, text: str, **extra: Any) -> dict[str, Any]:
        return {"id": message_id, "chat": "public", "message": text, "sender_name": "Ada", **extra}

    events = log(
        (0, START, {}),
        (100, types.CHAT_MESSAGE, sent("m_1", "before the clear")),
        (200, types.CHAT_CLEARED, {}),
        (300, types.CHAT_MESSAGE, sent("m_2", "typo")),
        (400, types.CHAT_MESSAGE, sent("m_3", "regrettable")),
        (450, types.CHAT_MESSAGE, sent("m_4", "secret", chat="private", to="w_bea")),
        (500, types.CHAT_EDITED, {"message": "m_2", "text": "fixed"}),
        (600, types.CHAT_DELETED, {"message": "m_3"}),
        (700, types.CHAT_REACTION, {"message": "m_2", "emoji": "👍", "on": True}),
    )
    timeline = build_timeline(events, T0 + 1000)
    assert timeline.chat == [{"t": 300, "name": "Ada", "text": "fixed"}]


def test_a_changed_shape_is_redrawn_under_a_new_id() -> None:
    where = {"presentation": "d", "page": 1}
    arrow = {"id": "a1", "tool": "arrow", "points": [[0, 0], [1, 1]], "author": "w_ada"}
    moved = {**arrow, "points": [[0.5, 0.5], [1, 1]]}
    events = log(
        (0, START, {}),
        (100, types.WHITEBOARD_ADDED, {**where, "shape": arrow}),
        (200, types.WHITEBOARD_UPDATED, {**where, "shape": moved}),
        (300, types.WHITEBOARD_UPDATED, {**where, "shape": {**moved, "color": "#000000"}}),
        (400, types.WHITEBOARD_REMOVED, {**where, "ids": ["a1"]}),
    )
    changes = build_timeline(events, T0 + 1000).drawings
    steps = [(c["t"], c.get("add", {}).get("id"), c.get("remove")) for c in changes]
    assert steps == [
        (100, "a1", None),
        (200, None, ["a1"]),
        (200, "a1~3", None),
        (300, None, ["a1~3"]),
        (300, "a1~4", None),
        (400, None, ["a1~4"]),
    ]
    assert changes[2]["add"]["points"] == [[0.5, 0.5], [1, 1]]
