"""From a meeting-log event to the webhook event bbb-webhooks receivers parse (bbb-api.md §3.3).

`map_event` returns the webhook event id and its `data` document, or None for log events that
have no webhook (registrations, renames). The envelope, attribute names and value types follow
bbb-webhooks, so receivers written for BBB parse sala's events unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sala.dates import java_date
from sala.events import types
from sala.events.log import MeetingEvent

# Log events whose webhook id is the same name (features append them as they arrive).
PASSTHROUGH = frozenset(
    {
        types.VOICE_ENABLED,
        types.VOICE_DISABLED,
        types.LISTEN_ONLY_ENABLED,
        types.LISTEN_ONLY_DISABLED,
        types.AUDIO_MUTED,
        types.AUDIO_UNMUTED,
        types.CAM_STARTED,
        types.CAM_STOPPED,
        types.USER_PRESENTER_ASSIGNED,
        types.USER_PRESENTER_UNASSIGNED,
        types.EMOJI,
        types.RAISE_HAND,
        types.POLL_STARTED,
        types.POLL_VOTE,
        types.RECORDING_STARTED,
        types.RECORDING_STOPPED,
        types.SCREENSHARE_STARTED,
        types.SCREENSHARE_STOPPED,
        types.PRESENTATION_CHANGED,
    }
)


@dataclass(frozen=True)
class MappedEvent:
    id: str
    data: dict[str, Any]
    """The mapped document: {"data": {"type": "event", "id", "attributes", "event"}}."""
    raw: dict[str, Any]
    """sala's own event as JSON, for hooks registered with getRaw=true."""


def _meeting_attributes(meeting: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "internal-meeting-id": meeting["internal_id"],
        "external-meeting-id": meeting["external_id"],
    }


def _created_attributes(meeting: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **_meeting_attributes(meeting),
        "name": meeting["name"],
        "is-breakout": meeting["is_breakout"],
        "parent-id": meeting["parent_meeting_id"],
        "duration": meeting["duration_minutes"],
        "create-time": meeting["create_time"],
        "create-date": java_date(meeting["create_time"]),
        "moderator-pass": meeting["moderator_pw"],
        "viewer-pass": meeting["attendee_pw"],
        "record": meeting["record"],
        "voice-conf": meeting["voice_bridge"],
        "dial-number": meeting["dial_number"],
        "max-users": meeting["max_participants"],
        "metadata": dict(meeting["metadata"] or {}),
    }


def _user_ids(user: Mapping[Any, Any] | None, fallback_id: str | None) -> dict[str, Any]:
    if user is None:
        return {"internal-user-id": fallback_id, "external-user-id": fallback_id}
    return {
        "internal-user-id": user["internal_user_id"],
        "external-user-id": user["external_user_id"],
    }


def _joined_user(user: Mapping[Any, Any] | None, fallback_id: str | None) -> dict[str, Any]:
    ids = _user_ids(user, fallback_id)
    if user is None:
        return ids
    return {
        **ids,
        "name": user["full_name"],
        "role": user["role"],
        "presenter": user["is_presenter"],
        "guest": user["guest"],
        "userdata": dict(user["custom_data"] or {}),
    }


def map_event(
    event: MeetingEvent,
    meeting: Mapping[Any, Any],
    user: Mapping[Any, Any] | None,
) -> MappedEvent | None:
    attributes: dict[str, Any]
    if event.type == types.MEETING_CREATED:
        webhook_id, attributes = event.type, {"meeting": _created_attributes(meeting)}
    elif event.type == types.MEETING_ENDED:
        webhook_id, attributes = event.type, {"meeting": _meeting_attributes(meeting)}
    elif event.type == types.USER_JOINED:
        webhook_id = event.type
        attributes = {
            "meeting": _meeting_attributes(meeting),
            "user": _joined_user(user, event.user_id),
        }
    elif event.type == types.USER_LEFT:
        webhook_id = event.type
        attributes = {
            "meeting": _meeting_attributes(meeting),
            "user": {**_user_ids(user, event.user_id), "guest": bool(user and user["guest"])},
        }
    elif event.type == types.CHAT_MESSAGE:
        if event.data.get("chat") != "public":
            return None  # bbb-webhooks reports public chat only
        webhook_id = "chat-group-message-sent"
        sender = (
            _user_ids(user, event.user_id)
            if user or event.user_id
            else {
                "internal-user-id": None,
                "external-user-id": None,
            }
        )
        attributes = {
            "meeting": _meeting_attributes(meeting),
            "chat-message": {
                # The room's id for the message (older events have none).
                "id": event.data.get("id") or f"{event.ts}-{event.id}",
                "message": event.data.get("message", ""),
                "sender": {
                    **sender,
                    "name": event.data.get("sender_name") or (user["full_name"] if user else ""),
                    "time": event.ts,
                },
            },
            "chat-id": "MAIN-PUBLIC-GROUP-CHAT",
        }
    elif event.type in (types.RAISE_HAND, types.EMOJI):
        # bbb-webhooks puts these on the user: `raise-hand` (bool), `emoji` ("none" cleared).
        webhook_id = event.type
        detail = (
            {"raise-hand": bool(event.data.get("raised"))}
            if event.type == types.RAISE_HAND
            else {"emoji": event.data.get("emoji") or "none"}
        )
        attributes = {
            "meeting": _meeting_attributes(meeting),
            "user": {**_user_ids(user, event.user_id), **detail},
        }
    elif event.type.startswith(types.RAP_PREFIX) or event.type in PASSTHROUGH:
        webhook_id = event.type
        attributes = {"meeting": _meeting_attributes(meeting)}
        if event.user_id is not None or user is not None:
            attributes["user"] = _user_ids(user, event.user_id)
        extra = {k.replace("_", "-"): v for k, v in event.data.items()}
        for key, value in extra.items():
            if key == "user" and isinstance(value, dict):
                attributes["user"] = {**attributes.get("user", {}), **value}
            else:
                attributes[key] = value
    else:
        return None
    data = {
        "data": {
            "type": "event",
            "id": webhook_id,
            "attributes": attributes,
            "event": {"ts": event.ts},
        }
    }
    raw = {
        "envelope": {"name": event.type, "timestamp": event.ts},
        "core": {
            "header": {
                "name": event.type,
                "meetingId": meeting["internal_id"],
                "userId": event.user_id,
            },
            "body": {"eventId": event.id, **event.data},
        },
    }
    return MappedEvent(webhook_id, data, raw)
