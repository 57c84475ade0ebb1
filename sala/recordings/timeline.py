"""A recording's time, and what happened in it, from the meeting's event log.

Only what lies between a `meeting-recording-started` and the next `meeting-recording-stopped`
(or the meeting's end) is in the recording: those are its segments, laid end to end. `Clock`
turns a moment of the meeting (epoch ms) into a moment of the recording (ms from its start);
a moment between segments belongs to the start of the next one, so the state shown after a gap
is the state at the end of the gap. `build_timeline` replays the log into what the playback
formats show: which page of which document, its annotations and zoom, the public chat, the
published polls, and the shared notes as they changed.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Text

from sala.events import types
from sala.events.log import MeetingEvent

WHOLE = {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0}
NOTES_EVERY_MS = 5000
"""Typing sends an update per pause: the playback keeps the notes' text at most every 5 s."""


def segments_of(events: Sequence[MeetingEvent], end_ms: int) -> list[tuple[int, int]]:
    """The recorded stretches of the meeting, as (start, end) epoch ms, in order."""
    found: list[tuple[int, int]] = []
    since: int | None = None
    for event in events:
        if event.type == types.RECORDING_STARTED and since is None:
            since = event.ts
        elif event.type == types.RECORDING_STOPPED and since is not None:
            if event.ts > since:
                found.append((since, event.ts))
            since = None
    if since is not None and end_ms > since:
        found.append((since, end_ms))
    return found


class Clock:
    """Meeting time (epoch ms) to recording time (ms), through the segments."""

    def __init__(self, segments: Sequence[tuple[int, int]]) -> None:
        self.segments = list(segments)
        self._starts = [s for s, _ in self.segments]
        self._offsets: list[int] = []
        total = 0
        for start, end in self.segments:
            self._offsets.append(total)
            total += end - start
        self.duration_ms = total

    def at(self, ts: int) -> int:
        index = bisect.bisect_right(self._starts, ts) - 1
        if index < 0:
            return 0
        start, end = self.segments[index]
        return self._offsets[index] + min(ts, end) - start

    def recorded(self, ts: int) -> bool:
        index = bisect.bisect_right(self._starts, ts) - 1
        return index >= 0 and ts <= self.segments[index][1]

    def pieces(self, begin: int, finish: int) -> list[tuple[int, int, int]]:
        """The recorded parts of [begin, finish) meeting time, as (meeting start, meeting end,
        recording start): where a stream that ran over that interval shows in the recording."""
        found = []
        for (start, end), offset in zip(self.segments, self._offsets, strict=True):
            lo, hi = max(start, begin), min(end, finish)
            if hi > lo:
                found.append((lo, hi, offset + lo - start))
        return found


@dataclass
class Timeline:
    duration_ms: int
    segments: list[tuple[int, int]]
    slides: list[dict[str, Any]] = field(default_factory=list)
    """[{t, presentation, page}]: what page is shown from t (recording ms) on."""
    drawings: list[dict[str, Any]] = field(default_factory=list)
    """[{t, presentation, page, add: shape} | {t, presentation, page, remove: [ids]}]. A shape
    changed in the meeting (`draw.update`) is removed and added again under a new id
    (`<id>~<n>`), so a player keyed on ids redraws it."""
    zooms: list[dict[str, Any]] = field(default_factory=list)
    """[{t, x, y, w, h}]: the part of the page shown, from t on (reset by page changes)."""
    chat: list[dict[str, Any]] = field(default_factory=list)
    """[{t, name, text}]: public messages sent while recording, as last edited; deleted ones,
    and those a moderator cleared, are left out (the room no longer shows them either)."""
    polls: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    """The shared notes as they stood at the end of the meeting."""
    notes_history: list[dict[str, Any]] = field(default_factory=list)
    """[{t, text}]: the notes as they stood from t on (one entry per NOTES_EVERY_MS at most)."""
    participants: set[str] = field(default_factory=set)


def build_timeline(events: Sequence[MeetingEvent], end_ms: int) -> Timeline:
    segments = segments_of(events, end_ms)
    clock = Clock(segments)
    timeline = Timeline(clock.duration_ms, segments)
    notes: Doc[Text] = Doc()
    notes_text = notes.get("notes", type=Text)
    chat = _Chat()
    shown_ids: dict[tuple[str, int, str], str] = {}
    """A changed shape's id in the timeline, by (presentation, page, its id in the meeting)."""
    for event in events:
        t = clock.at(event.ts)
        recorded = clock.recorded(event.ts)
        data = event.data
        if event.user_id and recorded:
            timeline.participants.add(event.user_id)
        if event.type == types.PRESENTATION_CHANGED:
            shown = {"presentation": data["presentation"], "page": int(data.get("page") or 1)}
            _replace_at(timeline.slides, {"t": t, **shown})
            _replace_at(timeline.zooms, {"t": t, **WHOLE})
        elif event.type == types.PAGE_CHANGED:
            shown = {"presentation": data["presentation"], "page": int(data["page"])}
            _replace_at(timeline.slides, {"t": t, **shown})
            _replace_at(timeline.zooms, {"t": t, **WHOLE})
        elif event.type == types.ZOOM_CHANGED:
            _replace_at(timeline.zooms, {"t": t, **{k: float(data[k]) for k in WHOLE}})
        elif event.type == types.WHITEBOARD_ADDED:
            where = {"presentation": data["presentation"], "page": int(data["page"])}
            timeline.drawings.append({"t": t, **where, "add": data["shape"]})
        elif event.type == types.WHITEBOARD_REMOVED:
            where = {"presentation": data["presentation"], "page": int(data["page"])}
            ids = [shown_ids.pop((where["presentation"], where["page"], i), i) for i in data["ids"]]
            timeline.drawings.append({"t": t, **where, "remove": ids})
        elif event.type == types.WHITEBOARD_UPDATED:
            where = {"presentation": data["presentation"], "page": int(data["page"])}
            shape = data["shape"]
            key = (where["presentation"], where["page"], shape["id"])
            before = shown_ids.get(key, shape["id"])
            shown_ids[key] = f"{shape['id']}~{event.id}"
            timeline.drawings.append({"t": t, **where, "remove": [before]})
            timeline.drawings.append({"t": t, **where, "add": {**shape, "id": shown_ids[key]}})
        elif event.type == types.CHAT_MESSAGE and not data.get("to"):
            chat.sent(event, t, recorded)
        elif event.type == types.CHAT_EDITED:
            chat.edited(str(data.get("message")), str(data.get("text", "")))
        elif event.type == types.CHAT_DELETED:
            chat.deleted(str(data.get("message")))
        elif event.type == types.CHAT_CLEARED:
            chat.cleared()
        elif event.type in (types.NOTES_UPDATED, types.NOTES_RESET):
            if event.type == types.NOTES_RESET:
                # A moderator emptied the notes: a new document from here on.
                notes = Doc()
                notes_text = notes.get("notes", type=Text)
            else:
                notes.apply_update(base64.b64decode(str(data["update"])))
            history = timeline.notes_history
            snapshot = {"t": t, "text": str(notes_text)}
            if history and t - history[-1]["t"] < NOTES_EVERY_MS:
                history[-1] = {"t": history[-1]["t"], "text": snapshot["text"]}
            else:
                history.append(snapshot)
        elif event.type == types.POLL_STARTED and recorded:
            poll = data.get("poll", {})
            timeline.polls.append(
                {"t": t, "question": poll.get("question", ""), "answers": poll.get("answers", [])}
            )
    timeline.notes = str(notes_text)
    timeline.chat = chat.shown()
    return timeline


class _Chat:
    """The public chat as the meeting left it: edits applied, deletions and clears honoured."""

    def __init__(self) -> None:
        self._messages: dict[str, dict[str, Any]] = {}
        """By id, in order; those sent while not recording are kept only for their id."""

    def sent(self, event: MeetingEvent, t: int, recorded: bool) -> None:
        data = event.data
        message_id = str(data.get("id") or f"{event.ts}-{event.id}")
        self._messages[message_id] = {
            "t": t,
            "name": data.get("sender_name", ""),
            "text": data.get("message", ""),
            "recorded": recorded,
        }

    def edited(self, message_id: str, text: str) -> None:
        if message_id in self._messages:
            self._messages[message_id]["text"] = text

    def deleted(self, message_id: str) -> None:
        self._messages.pop(message_id, None)

    def cleared(self) -> None:
        self._messages.clear()

    def shown(self) -> list[dict[str, Any]]:
        return [
            {"t": m["t"], "name": m["name"], "text": m["text"]}
            for m in self._messages.values()
            if m["recorded"]
        ]


def _replace_at(changes: list[dict[str, Any]], change: dict[str, Any]) -> None:
    """Append a state change; an earlier one at the same recording moment is superseded (all
    the changes made during a gap collapse into the state at its end)."""
    if changes and changes[-1]["t"] == change["t"]:
        changes[-1] = change
    else:
        changes.append(change)
