"""Read-only views of meetings and attendees, as the API and the room see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    MODERATOR = "MODERATOR"
    VIEWER = "VIEWER"


class GuestStatus(StrEnum):
    ALLOW = "ALLOW"
    WAIT = "WAIT"
    DENY = "DENY"


@dataclass(frozen=True)
class Attendee:
    internal_user_id: str
    meeting_id: str
    external_user_id: str
    full_name: str
    role: Role
    guest: bool
    guest_status: GuestStatus
    avatar_url: str
    custom_data: dict[str, Any]
    auth_token: str
    present: bool
    joined_at: int | None
    left_at: int | None
    is_presenter: bool
    listening_only: bool
    joined_voice: bool
    has_video: bool
    client_type: str
    join_params: dict[str, Any] = field(default_factory=dict)
    """The join parameters kept for features (api/join_params.py KEPT: enforceLayout...)."""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Attendee:
        return cls(
            internal_user_id=row["internal_user_id"],
            meeting_id=row["meeting_id"],
            external_user_id=row["external_user_id"],
            full_name=row["full_name"],
            role=Role(row["role"]),
            guest=row["guest"],
            guest_status=GuestStatus(row["guest_status"]),
            avatar_url=row["avatar_url"],
            custom_data=row["custom_data"] or {},
            auth_token=row["auth_token"],
            present=row["present"],
            joined_at=row["joined_at"],
            left_at=row["left_at"],
            is_presenter=row["is_presenter"],
            listening_only=row["listening_only"],
            joined_voice=row["joined_voice"],
            has_video=row["has_video"],
            client_type=row["client_type"],
            join_params=row.get("join_params") or {},
        )


@dataclass(frozen=True)
class Meeting:
    internal_id: str
    external_id: str
    name: str
    create_time: int
    voice_bridge: str
    dial_number: str
    attendee_pw: str
    moderator_pw: str
    duration_minutes: int
    max_participants: int
    record: bool
    is_breakout: bool
    parent_meeting_id: str
    metadata: dict[str, str]
    settings: dict[str, Any]
    start_time: int
    end_time: int
    ended: bool
    end_reason: str | None
    forcibly_ended: bool
    has_user_joined: bool
    version: int
    attendees: tuple[Attendee, ...] = field(default=())
    breakout_rooms: tuple[str, ...] = field(default=())
    """External IDs of the breakouts created under this meeting. Filled where the API reads
    meetings (MeetingService.get_live, list_live); empty in snapshots made for the room."""

    @classmethod
    def from_row(
        cls,
        row: Mapping[Any, Any],
        attendees: tuple[Attendee, ...] = (),
        breakout_rooms: tuple[str, ...] = (),
    ) -> Meeting:
        return cls(
            internal_id=row["internal_id"],
            external_id=row["external_id"],
            name=row["name"],
            create_time=row["create_time"],
            voice_bridge=row["voice_bridge"],
            dial_number=row["dial_number"],
            attendee_pw=row["attendee_pw"],
            moderator_pw=row["moderator_pw"],
            duration_minutes=row["duration_minutes"],
            max_participants=row["max_participants"],
            record=row["record"],
            is_breakout=row["is_breakout"],
            parent_meeting_id=row["parent_meeting_id"],
            metadata=row["metadata"] or {},
            settings=row["settings"] or {},
            start_time=row["start_time"],
            end_time=row["end_time"],
            ended=row["ended"],
            end_reason=row["end_reason"],
            forcibly_ended=row["forcibly_ended"],
            has_user_joined=row["has_user_joined"],
            version=row["version"],
            attendees=attendees,
            breakout_rooms=breakout_rooms,
        )

    @property
    def running(self) -> bool:
        """BBB's rule: running while somebody is in it."""
        return not self.ended and bool(self.attendees)

    @property
    def moderator_count(self) -> int:
        return sum(1 for a in self.attendees if a.role is Role.MODERATOR)

    @property
    def listener_count(self) -> int:
        return sum(1 for a in self.attendees if a.listening_only)

    @property
    def voice_participant_count(self) -> int:
        return sum(1 for a in self.attendees if a.joined_voice)

    @property
    def video_count(self) -> int:
        return sum(1 for a in self.attendees if a.has_video)

    @property
    def disabled_features(self) -> frozenset[str]:
        return frozenset(self.settings.get("disabledFeatures", []))
