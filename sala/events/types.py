"""Names of the events in the meeting log, and of the bus topics, shared by whoever writes and
whoever reads them.

The room and media features append these; webhooks, the analytics callback and recordings read
them. Adding a feature means adding its names here, not inventing strings at the call site.
"""

MEETING_CREATED = "meeting-created"
MEETING_ENDED = "meeting-ended"
MEETING_RENAMED = "meeting-renamed"
USER_REGISTERED = "user-registered"
USER_JOINED = "user-joined"
USER_LEFT = "user-left"
CHAT_MESSAGE = "chat-message"
# data: {"id", "chat": "public" | "private", "to", "message", "sender_name", "reply_to"}; "id"
# is the message's id in the room (older events have none: "<ts>-<event id>" then).
CHAT_REACTION = "chat-message-reaction"  # data: {"message": id, "emoji", "on": bool}
CHAT_EDITED = "chat-message-edited"  # data: {"message": id, "text"}
CHAT_DELETED = "chat-message-deleted"  # data: {"message": id}
CHAT_CLEARED = "chat-public-cleared"  # a moderator emptied the public chat
PRESENTATION_INSERTED = "presentation-inserted"
# A document finished converting for the meeting (the default one included): BBB's
# ConversionCompletedEvent; data: {"presentation": id, "name": its original file name}.
PRESENTATION_CONVERTED = "presentation-conversion-completed"
PRESENTATION_CHANGED = "meeting-presentation-changed"  # data: {"presentation": id}
PAGE_CHANGED = "presentation-page-changed"  # data: {"presentation": id, "page": n}
ZOOM_CHANGED = "presentation-zoom-changed"  # data: {"x", "y", "w", "h"} in slide fractions
WHITEBOARD_ADDED = "whiteboard-annotation-added"  # data: {"presentation", "page", "shape"}
WHITEBOARD_REMOVED = "whiteboard-annotations-removed"  # data: {"presentation", "page", "ids"}
# A shape moved, resized or recoloured; data: {"presentation", "page", "shape"} (the whole shape).
WHITEBOARD_UPDATED = "whiteboard-annotation-updated"
NOTES_UPDATED = "shared-notes-updated"  # data: {"update": a Yjs update, base64}
# The whole notes document so far, so a replay can start there (data: {"update", "generation"}).
NOTES_SNAPSHOT = "shared-notes-snapshot"
NOTES_RESET = "shared-notes-reset"  # a moderator emptied the notes; data: {"generation": n}
USER_ROLE_CHANGED = "user-role-changed"  # data: {"role": "MODERATOR" | "VIEWER"}
USER_PRESENTER_ASSIGNED = "user-presenter-assigned"
USER_PRESENTER_UNASSIGNED = "user-presenter-unassigned"
GUEST_DECIDED = "guest-decided"  # data: {"status": "ALLOW" | "DENY"}
GUEST_POLICY_CHANGED = "guest-policy-changed"  # data: {"policy": create's guestPolicy value}
LAYOUT_PUSHED = "layout-pushed"  # data: {"layout": a BBB layout name}

# Written by the room and media features (data: {"user_id": ..., ...}).
TALKING_STARTED = "user-talking-started"
TALKING_STOPPED = "user-talking-stopped"
RAISE_HAND = "user-raise-hand-changed"  # data: {"raised": bool}
EMOJI = "user-emoji-changed"  # data: {"emoji": str}
VOICE_ENABLED = "user-audio-voice-enabled"  # data: {"muted": bool}
VOICE_DISABLED = "user-audio-voice-disabled"
LISTEN_ONLY_ENABLED = "user-audio-listen-only-enabled"
LISTEN_ONLY_DISABLED = "user-audio-listen-only-disabled"
AUDIO_MUTED = "user-audio-muted"  # data: {"by": user id, when a moderator did it}
AUDIO_UNMUTED = "user-audio-unmuted"
CAM_STARTED = "user-cam-broadcast-start"  # data: {"stream": feed id}
CAM_STOPPED = "user-cam-broadcast-end"
SCREENSHARE_STARTED = "meeting-screenshare-started"
SCREENSHARE_STOPPED = "meeting-screenshare-stopped"
POLL_STARTED = "poll-started"
POLL_VOTE = "poll-responded"
RECORDING_STARTED = "meeting-recording-started"
RECORDING_STOPPED = "meeting-recording-stopped"

# Room state only: logged so that a room rebuilt from the log (another process taking the meeting
# over, a restart) shows what the old one did. No webhook (mapping.py maps none of them).
POLL_STOPPED = "poll-stopped"  # data: {"poll": {"id"}}; answers closed, not yet published
POLL_PUBLISHED = "poll-published"  # data: {"poll": {"id"}}; the result went to everybody
AWAY_CHANGED = "user-away-changed"  # data: {"away": bool}

# Recording pipeline steps (data: record_id, success, step_time, workflow...), mapped 1:1.
RAP_PREFIX = "rap-"
RAP_ARCHIVE_STARTED = "rap-archive-started"
RAP_ARCHIVE_ENDED = "rap-archive-ended"
RAP_SANITY_STARTED = "rap-sanity-started"
RAP_SANITY_ENDED = "rap-sanity-ended"
RAP_PROCESS_STARTED = "rap-process-started"
RAP_PROCESS_ENDED = "rap-process-ended"
RAP_PUBLISH_STARTED = "rap-publish-started"
RAP_PUBLISH_ENDED = "rap-publish-ended"  # a format is ready to be played
RAP_PUBLISHED = "rap-published"  # also written by publishRecordings(publish=true)
RAP_UNPUBLISHED = "rap-unpublished"
RAP_DELETED = "rap-deleted"

# Bus topics (not log events): what one part of sala announces to the others.
PUBLIC_CHAT_TOPIC = "room.chat"
"""A public chat message from outside the room (sendChatMessage), already logged."""
MEETING_CHANGED_TOPIC = "meeting.changed"
"""After any committed change to what a meeting shows (state, name, attendees and their media);
message: {"internal_id", "external_id"}. The read cache relies on it."""
MEETING_ENDED_TOPIC = "meeting.ended"
"""Once when a meeting ends; message: {"internal_id", "external_id", "reason"}."""
ROOM_TOPIC_PREFIX = "room:"
"""A room's announcements to every process with connections in it: `room_topic(meeting)`."""


def room_topic(meeting_id: str) -> str:
    return f"{ROOM_TOPIC_PREFIX}{meeting_id}"
