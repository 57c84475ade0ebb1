"""How meetings look in API answers: the children of getMeetingInfo's response and of each
getMeetings `<meeting>`, in BBB's element order (bbb-api.md §2.5)."""

from __future__ import annotations

from sala.api.xml import Fields, Repeated, Value
from sala.dates import java_date
from sala.meetings.model import Attendee, Meeting


def attendee_fields(attendee: Attendee) -> Fields:
    fields: list[tuple[str, Value]] = [
        ("userID", attendee.external_user_id),
        ("fullName", attendee.full_name),
        ("role", attendee.role.value),
        ("isPresenter", attendee.is_presenter),
        ("isListeningOnly", attendee.listening_only),
        ("hasJoinedVoice", attendee.joined_voice),
        ("hasVideo", attendee.has_video),
        ("clientType", attendee.client_type),
    ]
    # BBB 3.0 stores a custom-data map for every API join, so <customdata/> is always there,
    # empty when the join sent no userdata-*.
    fields.append(("customdata", list(attendee.custom_data.items())))
    return fields


def meeting_fields(meeting: Meeting) -> list[tuple[str, Value]]:
    fields: list[tuple[str, Value]] = [
        ("meetingName", meeting.name),
        ("meetingID", meeting.external_id),
        ("internalMeetingID", meeting.internal_id),
        ("createTime", meeting.create_time),
        ("createDate", java_date(meeting.create_time)),
        ("voiceBridge", meeting.voice_bridge),
        ("dialNumber", meeting.dial_number),
        ("attendeePW", meeting.attendee_pw or None),
        ("moderatorPW", meeting.moderator_pw or None),
        ("running", meeting.running),
        ("duration", meeting.duration_minutes),
        ("hasUserJoined", meeting.has_user_joined),
        ("recording", meeting.record),
        ("hasBeenForciblyEnded", meeting.forcibly_ended),
        ("startTime", meeting.start_time),
        ("endTime", meeting.end_time),
        ("participantCount", len(meeting.attendees)),
        ("listenerCount", meeting.listener_count),
        ("voiceParticipantCount", meeting.voice_participant_count),
        ("videoCount", meeting.video_count),
        ("maxUsers", meeting.max_participants),
        ("moderatorCount", meeting.moderator_count),
        ("attendees", Repeated("attendee", [attendee_fields(a) for a in meeting.attendees])),
        ("metadata", list(meeting.metadata.items())),
        ("isBreakout", meeting.is_breakout),
    ]
    if meeting.is_breakout:
        fields += [
            ("parentMeetingID", meeting.parent_meeting_id),
            ("sequence", int(meeting.settings.get("sequence", 0))),
            ("freeJoin", bool(meeting.settings.get("freeJoin", False))),
        ]
    if meeting.breakout_rooms:
        # Only when there are some, each the breakout's external ID (get-meeting-info.ftlx).
        fields.append(("breakoutRooms", Repeated("breakout", list(meeting.breakout_rooms))))
    return fields
