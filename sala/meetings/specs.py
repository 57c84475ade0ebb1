"""What callers hand the meeting services, and what they get back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sala.meetings.model import Attendee, Meeting, Role


@dataclass(frozen=True)
class CreateSpec:
    external_id: str
    name: str
    attendee_pw: str | None = None
    moderator_pw: str | None = None
    voice_bridge: str | None = None
    dial_number: str = "613-555-1234"
    duration_minutes: int = 0
    max_participants: int = 0
    record: bool = False
    is_breakout: bool = False
    parent_meeting_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    modules_xml: str | None = None
    expire_no_join_minutes: int = 5
    expire_last_left_minutes: int = 5


@dataclass(frozen=True)
class CreateResult:
    meeting: Meeting
    duplicate: bool


@dataclass(frozen=True)
class JoinSpec:
    full_name: str
    role: Role | None = None
    password: str | None = None
    create_time: str | None = None
    external_user_id: str | None = None
    guest: bool | None = None
    avatar_url: str = ""
    custom_data: dict[str, str] = field(default_factory=dict)
    join_params: dict[str, str] = field(default_factory=dict)
    existing_user_id: str | None = None
    """Attach a new session to this user instead of registering another (getJoinUrl)."""


@dataclass(frozen=True)
class JoinResult:
    meeting: Meeting
    """Without its attendees (callers need its IDs; reading everyone per join was O(N²))."""
    attendee: Attendee
    session_token: str


@dataclass(frozen=True)
class RoomSession:
    token: str
    meeting: Meeting
    """Without its attendees (who is present is the room's to know; loading them for every
    connection made joining O(N²))."""
    attendee: Attendee
    expires_at: int


@dataclass(frozen=True)
class LifecycleDefaults:
    inactivity_minutes: int = 60
    join_token_ttl_ms: int = 600_000
    room_session_ttl_ms: int = 24 * 3_600_000
    authenticated_guest: bool = True
    server_url: str = ""
    """The public base URL, for %%SERVERURL%% in welcome messages."""
