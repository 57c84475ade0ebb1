"""The API's one error type: whatever goes wrong in a call ends as a BBB FAILED answer."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, key: str, message: str, *, status: int = 200) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message
        self.status = status


def checksum_error(message: str = "Checksums do not match") -> ApiError:
    return ApiError("checksumError", message)


def missing_meeting_id() -> ApiError:
    return ApiError("missingParamMeetingID", "You must provide a meeting ID")


def validation_error(message: str) -> ApiError:
    return ApiError("validationError", message)
