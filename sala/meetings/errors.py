"""Domain errors. Each carries the BBB messageKey the API answers with, so the API edge
translates them in one place without a lookup table that could drift."""

from __future__ import annotations


class MeetingError(Exception):
    key = "internalError"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class MeetingNotFound(MeetingError):
    key = "notFound"
    default_message = "A meeting with that ID does not exist"


class IdNotUnique(MeetingError):
    key = "idNotUnique"
    default_message = (
        "A meeting already exists with that meeting ID.  Please use a different meeting ID."
    )


class NonUniqueVoiceBridge(MeetingError):
    key = "nonUniqueVoiceBridge"
    default_message = "The selected voice bridge is already in use."


class ParentMeetingMissing(MeetingError):
    key = "parentMeetingIDMissing"
    default_message = "No parent meeting ID was provided for the breakout room"


class ParentMeetingDoesNotExist(MeetingError):
    key = "parentMeetingDoesNotExist"
    default_message = "No parent meeting exists for the breakout room"


class InvalidMeetingIdentifier(MeetingError):
    key = "invalidMeetingIdentifier"
    default_message = "The meeting ID that you supplied did not match any existing meetings"


class MeetingForciblyEnded(MeetingError):
    key = "meetingForciblyEnded"
    default_message = "You can not join a meeting that has already been forcibly ended"


class CreateTimeMismatch(MeetingError):
    key = "mismatchCreateTimeParam"
    default_message = "The createTime parameter submitted mismatches with the current meeting."


class MaxParticipantsReached(MeetingError):
    key = "maxParticipantsReached"
    default_message = "The number of participants allowed for this meeting has been reached."


class GuestDenied(MeetingError):
    key = "guestDeniedAccess"
    default_message = (
        "You have been denied access to this meeting based on the meeting's guest policy"
    )


class InvalidPassword(MeetingError):
    key = "invalidPassword"
    default_message = (
        "You either did not supply a password or the password supplied is neither the attendee "
        "or moderator password for this conference."
    )


class InvalidSession(MeetingError):
    key = "sessionMissing"
    default_message = "Invalid session token"
