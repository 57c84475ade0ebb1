"""The analytics callback: what happened in a meeting, posted as JSON when it ends.

Enabled per meeting with `meta_analytics-callback-url`. The document has exactly the structure
of the guides' example ("Dados analíticos"); every figure is computed from the meeting's event
log, so counters of features that append no events yet are 0 and fill in as those features land.
The request carries `Authorization: Bearer <JWT>`, HS512-signed with the shared secret, `exp` 24
hours ahead, signed when each attempt is made so retries never carry an expired token.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
import jwt.warnings

from sala.events import types
from sala.events.log import MeetingEvent

CALLBACK_META_KEY = "analytics-callback-url"
TOKEN_LIFETIME_S = 24 * 3600


def guide_time(epoch_ms: int) -> str:
    """`2023-08-07 14:06:17 +0000`: the guides' date format, in UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def external_user_id(value: str) -> int | str:
    """Numeric IDs are JSON numbers in the guides' example; anything else stays a string."""
    return int(value) if value.isdigit() and (value == "0" or not value.startswith("0")) else value


def snake_metadata(meeting: Mapping[Any, Any]) -> dict[str, str]:
    metadata = {key.replace("-", "_"): value for key, value in (meeting["metadata"] or {}).items()}
    metadata.update(
        {
            "analytics_callback_url": "hidden",
            "is_breakout": "true" if meeting["is_breakout"] else "false",
            "meeting_id": meeting["external_id"],
            "meeting_name": meeting["name"],
            "record": "true" if meeting["record"] else "false",
        }
    )
    return dict(sorted(metadata.items()))


@dataclass
class _Session:
    internal_id: str
    joins: list[int] = field(default_factory=list)
    lefts: list[int] = field(default_factory=list)

    def seconds(self, meeting_end: int) -> int:
        total = 0
        for index, joined in enumerate(self.joins):
            left = self.lefts[index] if index < len(self.lefts) else meeting_end
            total += max(0, left - joined)
        return total // 1000


@dataclass
class _Person:
    ext_user_id: int | str
    name: str = ""
    moderator: bool = False
    sessions: dict[str, _Session] = field(default_factory=dict)
    chats: int = 0
    talks: int = 0
    raisehand: int = 0
    emojis: int = 0
    poll_votes: int = 0
    talk_ms: int = 0


def _entry(kind: str, at: int, session: str, ext: int | str) -> dict[str, Any]:
    return {
        "timestamp": guide_time(at),
        "userid": session,
        "ext_userid": ext,
        "event": kind,
        "remove": False,
    }


def build_payload(
    meeting: Mapping[Any, Any],
    attendees: Mapping[Any, Mapping[Any, Any]],
    events: Sequence[MeetingEvent],
) -> dict[str, Any]:
    """`attendees` maps internal user IDs to attendee rows; `events` is the whole meeting log."""
    start, finish = meeting["create_time"], meeting["end_time"] or meeting["create_time"]
    people: dict[str, _Person] = {}
    talking_since: dict[str, int] = {}
    files: list[str] = []
    polls: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    recording_since: int | None = None

    def person(user_id: str) -> _Person | None:
        row = attendees.get(user_id)
        if row is None:
            return None
        key = row["external_user_id"]
        found = people.get(key)
        if found is None:
            found = people[key] = _Person(external_user_id(key))
        found.name = row["full_name"]
        found.moderator = found.moderator or row["role"] == "MODERATOR"
        return found

    for event in events:
        who = person(event.user_id) if event.user_id else None
        if event.type == types.USER_JOINED and who and event.user_id:
            who.sessions.setdefault(event.user_id, _Session(event.user_id)).joins.append(event.ts)
        elif event.type == types.USER_LEFT and who and event.user_id:
            who.sessions.setdefault(event.user_id, _Session(event.user_id)).lefts.append(event.ts)
            if event.user_id in talking_since:
                who.talk_ms += event.ts - talking_since.pop(event.user_id)
        elif event.type == types.CHAT_MESSAGE and who:
            who.chats += 1
        elif event.type == types.TALKING_STARTED and who and event.user_id:
            who.talks += 1
            talking_since[event.user_id] = event.ts
        elif event.type == types.TALKING_STOPPED and who and event.user_id:
            if event.user_id in talking_since:
                who.talk_ms += event.ts - talking_since.pop(event.user_id)
        elif event.type == types.RAISE_HAND and who and event.data.get("raised"):
            who.raisehand += 1
        elif event.type == types.EMOJI and who and event.data.get("emoji") not in (None, "none"):
            who.emojis += 1
        elif event.type == types.POLL_VOTE and who:
            who.poll_votes += 1
            voted = event.data.get("poll", {})
            for poll in polls:
                if poll.get("id") == voted.get("id"):
                    keys = [str(a.get("key")) for a in poll.get("answers", [])]
                    for answer in voted.get("answerIds", []):
                        if 0 <= answer < len(keys):
                            poll["votes"][keys[answer]] += 1
        elif event.type == types.POLL_STARTED:
            poll = dict(event.data.get("poll", event.data))
            poll["votes"] = {str(a.get("key")): 0 for a in poll.get("answers", [])}
            polls.append(poll)
        elif event.type == types.PRESENTATION_CONVERTED:
            # BBB lists the original name of every document converted for the meeting, in
            # the order they finished, repeats included (bbbevents' ConversionCompletedEvent);
            # the default presentation only when the meeting got it.
            files.append(str(event.data.get("name", "")))
        elif event.type == types.RECORDING_STARTED and recording_since is None:
            recording_since = event.ts
        elif event.type == types.RECORDING_STOPPED and recording_since is not None:
            segments.append({"start": guide_time(recording_since), "finish": guide_time(event.ts)})
            recording_since = None
    if recording_since is not None:
        segments.append({"start": guide_time(recording_since), "finish": guide_time(finish)})

    return {
        "version": "1.0",
        "meeting_id": meeting["external_id"],
        "internal_meeting_id": meeting["internal_id"],
        "data": {
            "metadata": snake_metadata(meeting),
            "duration": max(0, finish - start) // 1000,
            "start": guide_time(start),
            "finish": guide_time(finish),
            "attendees": [_attendee(p, finish) for p in people.values() if p.sessions],
            "files": files,
            "polls": polls,
            "recorded_segments": segments,
            "transfer_attendees": [],
        },
    }


def _attendee(p: _Person, meeting_end: int) -> dict[str, Any]:
    joins = sorted(t for s in p.sessions.values() for t in s.joins)
    leaves = sorted(t for s in p.sessions.values() for t in s.lefts)
    return {
        "ext_user_id": p.ext_user_id,
        "name": p.name,
        "moderator": p.moderator,
        "joins": [guide_time(t) for t in joins],
        "leaves": [guide_time(t) for t in leaves],
        "duration": sum(s.seconds(meeting_end) for s in p.sessions.values()),
        "recent_talking_time": "",
        "engagement": {
            "chats": p.chats,
            "talks": p.talks,
            "raisehand": p.raisehand,
            "emojis": p.emojis,
            "poll_votes": p.poll_votes,
            "talk_time": p.talk_ms // 1000,
        },
        "sessions": {
            s.internal_id: {
                "joins": [_entry("join", t, s.internal_id, p.ext_user_id) for t in s.joins],
                "lefts": [_entry("left", t, s.internal_id, p.ext_user_id) for t in s.lefts],
            }
            for s in p.sessions.values()
        },
    }


def bearer_token(secret: str, now_ms: int) -> str:
    return jwt.encode({"exp": now_ms // 1000 + TOKEN_LIFETIME_S}, secret, algorithm="HS512")
