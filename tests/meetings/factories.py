"""Meetings and attendees as the store hands them out, for tests that need no database."""

from __future__ import annotations

from typing import Any

from sala.meetings.model import Attendee, GuestStatus, Meeting, Role


def meeting(
    settings: dict[str, Any] | None = None, record: bool = False, internal_id: str = "m-1"
) -> Meeting:
    return Meeting(
        internal_id=internal_id,
        external_id="room",
        name="Room",
        create_time=1,
        voice_bridge="70001",
        dial_number="",
        attendee_pw="ap",
        moderator_pw="mp",
        duration_minutes=0,
        max_participants=0,
        record=record,
        is_breakout=False,
        parent_meeting_id="",
        metadata={},
        settings=settings or {},
        start_time=1,
        end_time=0,
        ended=False,
        end_reason=None,
        forcibly_ended=False,
        has_user_joined=False,
        version=1,
    )


def attendee(
    user_id: str,
    role: Role = Role.VIEWER,
    *,
    meeting_id: str = "m-1",
    custom_data: dict[str, Any] | None = None,
    guest_status: GuestStatus = GuestStatus.ALLOW,
) -> Attendee:
    return Attendee(
        internal_user_id=user_id,
        meeting_id=meeting_id,
        external_user_id=f"ext-{user_id}",
        full_name=user_id.capitalize(),
        role=role,
        guest=False,
        guest_status=guest_status,
        avatar_url="",
        custom_data=custom_data or {},
        auth_token="",
        present=False,
        joined_at=None,
        left_at=None,
        is_presenter=False,
        listening_only=False,
        joined_voice=False,
        has_video=False,
        client_type="HTML5",
    )
