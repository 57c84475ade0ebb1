"""The table of API calls: name, handler, methods, checksum and accepted body types."""

from __future__ import annotations

from sala.api.calls import (
    hooks,
    join,
    mconf,
    meetings,
    misc,
    recordings,
    sessions,
    text_tracks,
)
from sala.api.endpoint import ANY_BODY, FORM_TYPES, XML_TYPES, Call

GET_POST = frozenset({"GET", "POST"})
POST = frozenset({"POST"})


def api_calls() -> dict[str, Call]:
    return {
        "": Call(misc.version, methods=frozenset({"GET", "POST"}), checksummed=False),
        "create": Call(meetings.create, body_types=FORM_TYPES | XML_TYPES),
        # bbb-web routes join like every call: GET or POST, the checksum over the query string.
        "join": Call(join.join),
        "end": Call(meetings.end),
        "isMeetingRunning": Call(meetings.is_meeting_running),
        "getMeetingInfo": Call(meetings.get_meeting_info),
        "getMeetings": Call(meetings.get_meetings),
        "getSessions": Call(sessions.get_sessions),
        "getRecordings": Call(recordings.get_recordings),
        "publishRecordings": Call(recordings.publish_recordings),
        "deleteRecordings": Call(recordings.delete_recordings),
        "updateRecordings": Call(recordings.update_recordings),
        "getRecordingTextTracks": Call(text_tracks.get_recording_text_tracks),
        "putRecordingTextTrack": Call(
            text_tracks.put_recording_text_track,
            methods=POST,
            body_types=frozenset({"multipart/form-data"}),
            json_errors=False,
        ),
        "insertDocument": Call(misc.insert_document, methods=POST, body_types=XML_TYPES),
        # bbb-web's SendChatMessage has no Content-Type constraint.
        "sendChatMessage": Call(misc.send_chat_message, body_types=ANY_BODY),
        "getJoinUrl": Call(misc.get_join_url, checksummed=False, json_errors=True),
        "getAllMeetings": Call(mconf.get_all_meetings),
        "updateMeeting": Call(mconf.update_meeting),
        "hooks/create": Call(hooks.create),
        "hooks/destroy": Call(hooks.destroy),
        "hooks/list": Call(hooks.list_hooks),
        "hooks/enable": Call(hooks.enable, checksum_status=401),
        "hooks/ping": Call(hooks.ping, checksummed=False),
    }
