"""`join`'s parameters as bbb-web 3.0 reads them.

bbb-web checks the meeting ID, `fullName`, the password's length, `guest`, `auth` and
`createTime` (its JoinMeeting request class) and answers the first violation its HashMap holds
(sala/api/violations.py). The rest it reads leniently: a valid `role` in any case wins over the
password, `redirect` is true only for `true` (any case), a `logoutURL` that is not a URL is
ignored, `userdata-<key>` keys split on `-` into exactly two parts. Where bbb-web fails with an
HTTP 500 (no `fullName` at all) sala answers with the error for an empty one.
"""

from __future__ import annotations

import re

from sala.api.errors import ApiError
from sala.api.java_url import is_java_url
from sala.api.params import (
    LONG_RANGE,
    Params,
    is_boolean_word,
    java_boolean,
    java_integer,
    java_length,
)
from sala.api.violations import Violations
from sala.meetings.model import Role
from sala.meetings.specs import JoinSpec

USERDATA_PREFIX = "userdata"
TEXT_COLUMN = 256
"""The size of the name and user ID columns; bbb-web has no limit, so longer ones are cut."""
_WEB_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
KEPT = (
    "webcamBackgroundURL",
    "excludeFromDashboard",
    "enforceLayout",
    "defaultLayout",
    "bot",
    "firstName",
    "lastName",
    "sessionName",
    "auth",
    "errorRedirectUrl",
)
"""Join parameters kept with the user for features to read."""


def wants_redirect(params: Params) -> bool:
    """Absent or empty: redirect; otherwise Boolean.parseBoolean (so `1` answers XML)."""
    value = params.text("redirect")
    return not value or java_boolean(value)


def web_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL a browser can be sent to."""
    if value is None:
        return None
    value = value.strip()
    return value if _WEB_URL.match(value) else None


def error_redirect_target(params: Params, default: str) -> str:
    """Where a refused join sends the browser: `errorRedirectUrl`, else the join's own
    `logoutURL` when it is a URL, else the server's logout URL."""
    return params.nonempty("errorRedirectUrl") or web_url(params.text("logoutURL")) or default


def parse_join(params: Params) -> tuple[str, JoinSpec]:
    """The meeting ID and what the user asks for, or the ApiError bbb-web 3.0 would answer."""
    meeting_id = check_join(params)
    full_name = params.text("fullName")
    if full_name is None:
        raise ApiError("missingParamFullName", "You must provide your name")
    user_id = params.nonempty("userID")
    create_time = params.sanitized("createTime")
    join_params = {k: v for k, v in params.items() if k in KEPT}
    logout_url = web_url(params.text("logoutURL"))
    if logout_url is not None:
        join_params["logoutURL"] = logout_url
    guest = params.nonempty("guest")
    spec = JoinSpec(
        full_name=full_name[:TEXT_COLUMN],
        role=_role(params.text("role")),
        password=params.sanitized("password") or None,
        # A number in any form Long.parseLong takes, written the way the meeting's is.
        create_time=None if not create_time else str(java_integer(create_time, LONG_RANGE)),
        external_user_id=None if user_id is None else user_id[:TEXT_COLUMN],
        guest=None if guest is None else java_boolean(guest),
        avatar_url=params.nonempty("avatarURL") or "",
        custom_data=user_custom_data(params),
        join_params=join_params,
        existing_user_id=params.nonempty("existingUserID"),
    )
    return meeting_id, spec


def check_join(params: Params) -> str:
    """bbb-web 3.0's checks of a join request; returns the meeting ID."""
    external_url = params.text("presentationUploadExternalUrl")
    if external_url is not None and not is_java_url(external_url):
        raise ApiError(
            "validationError", "Param 'presentationUploadExternalUrl' is not a valid URL"
        )
    found = Violations()
    meeting_id = params.sanitized("meetingID")
    if not meeting_id or not 2 <= java_length(meeting_id) <= 256 or "," in meeting_id:
        # No meeting has such an ID, and bbb-web's map holds "forcibly ended" before the
        # other keys a missing meeting raises (invalidMeetingIdentifier, invalidPassword,
        # and sizeError, validationError for the ID itself).
        found.add(
            "meetingForciblyEnded",
            "You can not join a meeting that has already been forcibly ended",
        )
    full_name = params.sanitized("fullName")
    if full_name is not None and not full_name:
        found.add("missingParamFullName", "You must provide your name")
    password = params.sanitized("password")
    if password and not 2 <= java_length(password) <= 64:
        found.add("invalidPassword", "Invalid password")
    if not is_boolean_word(params.text("guest") or ""):
        found.add("validationError", "Guest must be a boolean value (true or false)")
    if not is_boolean_word(params.text("auth") or ""):
        found.add("validationError", "Auth must be a boolean value (true or false)")
    create_time = params.sanitized("createTime")
    if create_time and java_integer(create_time, LONG_RANGE) is None:
        found.add("validationError", "Value must be an integral number")
    found.raise_first()
    return params.text("meetingID") or ""


def user_custom_data(params: Params) -> dict[str, str]:
    """`userdata-<key>` parameters as bbb-web reads them (ParamsProcessorUtil.getUserCustomData):
    the name split on `-` (Java's split, which drops trailing empty parts) must give exactly
    two parts, and the second is the key."""
    data: dict[str, str] = {}
    for name, value in params.items():
        if not name.startswith(USERDATA_PREFIX):
            continue
        parts = name.split("-")
        while parts and not parts[-1]:
            parts.pop()
        if len(parts) == 2:
            data.setdefault(parts[1], value)
    return data


def _role(value: str | None) -> Role | None:
    """`moderator` or `viewer` in any case (bbb-web lower-cases it); anything else: no role."""
    if value is None:
        return None
    try:
        return Role(value.strip().upper())
    except ValueError:
        return None
