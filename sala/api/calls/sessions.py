"""getSessions: the room sessions open on this server, one `<meeting>` each (get-sessions.ftlx)."""

from __future__ import annotations

from sala.api.endpoint import Answer, ApiRequest
from sala.api.xml import Fields, Repeated


async def get_sessions(req: ApiRequest) -> Answer:
    sessions = await req.ctx.sessions.active()
    if not sessions:
        return [
            ("returncode", "SUCCESS"),
            ("sessions", []),
            ("messageKey", "noSessions"),
            # bbb-web's words, typo included: clients may compare the text.
            ("message", "no sessions were found on this serverr"),
        ]
    items: list[Fields] = [
        [
            ("meetingID", s.meeting_id),
            ("meetingName", s.meeting_name),
            ("userName", s.user_name),
        ]
        for s in sessions
    ]
    return [("returncode", "SUCCESS"), ("sessions", Repeated("meeting", items))]
