"""Never stricter than BBB: what bbb-web 3.0 accepts on `create` and `join`, sala accepts, and
where bbb-web refuses, sala answers with its messageKey and message.

Hypothesis throws parameter sets at both calls, with every create parameter of BBB 3.0, the later
3.0.x releases and 4.0 carrying the kinds of values clients send: free text, numbers, nothing,
unicode, booleans in odd case, 1 and 0. The oracle below is bbb-web 3.0's validation written out
from its sources, independently of sala's code:

* ValidationService.validate: every name and value is stripped of control characters (\\p{Cc})
  and trimmed before it is checked; a request carrying `presentationUploadExternalUrl` is checked
  for that URL only.
* The request classes CreateMeeting and JoinMeeting (bbb-common-web model/request) and their
  constraints (model/constraint, model/validator): which parameter is checked, with which key and
  message. Lengths are Java String lengths (UTF-16 units).
* buildViolationsMap: all violations go into a HashMap<messageKey, message> and the first entry
  is answered; for these keys the bucket order is fixed by their String hash codes.
* ApiController.create and join: the checks after validation (the meeting ID changed by
  sanitizing, the breakout parent, createTime, role and password).

Where sala deliberately answers differently, the oracle says so next to the rule; every such
difference is more lenient than BBB or a documented choice of answer shape, never a refusal of
something BBB accepts.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.api.bbb_shapes import paths_for, problems
from tests.conftest import Api
from tests.xmlutil import field, xml

# ------------------------------------------------------------------ bbb-web 3.0, written out --
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def sanitized(value: str) -> str:
    """ParamsUtil.sanitizeString: control characters removed, then String.trim()."""
    return CONTROL.sub("", value).strip(" ")


def java_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def java_number(value: str, bits: int) -> int | None:
    """Integer.parseInt (bits=32) / Long.parseLong (bits=64): an optional sign, decimal digits
    of any script, within range; anything else throws."""
    digits = value[1:] if value[:1] in ("+", "-") else value
    if not digits or not all(c.isdecimal() for c in digits):
        return None
    number = int(value)
    return number if -(2 ** (bits - 1)) <= number < 2 ** (bits - 1) else None


def boolean_ish(value: str) -> bool:
    """IsBooleanValidator: empty, or true/false/0/1 in any case."""
    return sanitized(value).lower() in ("", "true", "false", "0", "1")


def parse_boolean(value: str) -> bool:
    """Boolean.parseBoolean, on the value as sala reads it (control characters stripped)."""
    return CONTROL.sub("", value).lower() == "true"


# The bucket order of bbb-web's HashMap<messageKey, message> for the keys validation produces
# (16 buckets; index from each key's String.hashCode). Keys sharing a bucket, and messages
# sharing a key, come out in an order that depends on a HashSet of violations: either may be
# answered.
BUCKETS = (
    {"checksumError"},
    {"emptyError"},
    {"missingParamFullName"},
    {"meetingForciblyEnded"},
    {"invalidPassword"},
    {"notFound", "invalidMeetingIdentifier"},
    {"sizeError"},
    {"validationError", "nullError"},
    {"missingParamMeetingID"},
)


@dataclass(frozen=True)
class Refusal:
    answers: frozenset[tuple[str, str | None]]
    """(messageKey, message) pairs BBB may answer; a None message: any readable one."""
    validation: bool = False
    """Refused by bbb-web's validation step (a redirect in BBB even with redirect=false)."""

    def allows(self, key: str, message: str) -> bool:
        return (key, message) in self.answers or (key, None) in self.answers


def refuse(key: str, message: str | None, *, validation: bool = False) -> Refusal:
    return Refusal(frozenset({(key, message)}), validation)


def first_violation(violations: list[tuple[str, str]]) -> Refusal | None:
    for bucket in BUCKETS:
        hits = frozenset((k, m) for k, m in violations if k in bucket)
        if hits:
            return Refusal(hits, validation=True)
    return None


URL_MESSAGE = "Param 'presentationUploadExternalUrl' is not a valid URL"
# Labelled by what `new URL(x).toURI()` does with them (after %%MEETINGID%% -> 123, %%USERID%% -> 456).
VALID_EXTERNAL_URLS = [
    "https://example.com/upload",
    "http://lms.example.com/bbb?meeting=%%MEETINGID%%&user=%%USERID%%",
    "HTTPS://EXAMPLE.COM",
    "http://example.com:8080/x#frag",
    "ftp://files.example.com/in/",
    "mailto:teacher@example.com",
]
INVALID_EXTERNAL_URLS = [
    "",
    "not a url",
    "example.com/upload",
    "//example.com/x",
    "javascript:alert(1)",
    "ldap://example.com/",
    "http://",
    "https://exa mple.com/",
    "https://example.com/{x}",
    "https://example.com/x#a#b",
    "https://example.com:port/",
]


def external_url_refusal(p: Mapping[str, str]) -> Refusal | None:
    # With the parameter present bbb-web checks that URL and nothing else, the checksum
    # included; sala refuses a bad URL the same way but checks everything else as usual.
    url = p.get("presentationUploadExternalUrl")
    if url is not None and url not in VALID_EXTERNAL_URLS:
        assert url in INVALID_EXTERNAL_URLS
        return refuse("validationError", URL_MESSAGE, validation=True)
    return None


def bbb_create(p: Mapping[str, str]) -> Refusal | None:
    """What bbb-web 3.0 answers to create `p` (None: a new meeting), for a meeting ID that names
    no meeting yet and a parentMeetingID that names none."""
    refusal = external_url_refusal(p)
    if refusal:
        return refusal
    violations = []
    if "name" not in p:
        violations.append(("nullError", "You must provide a meeting name"))
    else:
        name = sanitized(p["name"])
        if not name:
            violations.append(("emptyError", "You must provide a meeting name"))
        if not 2 <= java_length(name) <= 256:
            violations.append(("sizeError", "Meeting name must be between 2 and 256 characters"))
    if "meetingID" in p:
        meeting_id = sanitized(p["meetingID"])
        if not meeting_id:
            violations.append(("missingParamMeetingID", "You must provide a meeting ID"))
        if not 2 <= java_length(meeting_id) <= 256:
            violations.append(("sizeError", "Meeting ID must be between 2 and 256 characters"))
        if "," in meeting_id:
            violations.append(("validationError", "Meeting ID cannot contain ','"))
    voice_bridge = sanitized(p.get("voiceBridge", ""))
    if voice_bridge and java_number(voice_bridge, 64) is None:
        violations.append(("validationError", "Voice bridge must be an integral value"))
    for password in ("attendeePW", "moderatorPW"):
        value = sanitized(p.get(password, ""))
        if value and not 2 <= java_length(value) <= 64:
            violations.append(("invalidPassword", "Invalid password"))
    if not boolean_ish(p.get("isBreakoutRoom", "")):
        message = "You must provide a boolean value (true or false) for the breakout room"
        violations.append(("validationError", message))
    if not boolean_ish(p.get("record", "")):
        violations.append(("validationError", "Record must be a boolean value (true or false)"))
    refusal = first_violation(violations)
    if refusal:
        return refusal
    if "meetingID" not in p or sanitized(p["meetingID"]) != p["meetingID"]:
        return refuse("validationError", "Invalid meeting ID")
    if parse_boolean(p.get("isBreakout", "")):
        if not p.get("parentMeetingID"):
            return refuse(
                "parentMeetingIDMissing", "No parent meeting ID was provided for the breakout room"
            )
        return refuse("parentMeetingDoesNotExist", "No parent meeting exists for the breakout room")
    return None


@dataclass(frozen=True)
class Room:
    meeting_id: str
    create_time: int
    attendee_pw: str = "ap"
    moderator_pw: str = "mp"


def bbb_join(p: Mapping[str, str], room: Room) -> Refusal | None:
    """What bbb-web 3.0 answers to join `p` for the live meeting `room` (None: joined), with
    sala's documented choices where noted."""
    refusal = external_url_refusal(p)
    if refusal:
        return refusal
    violations = []
    if "fullName" in p and not sanitized(p["fullName"]):
        violations.append(("missingParamFullName", "You must provide your name"))
    password = sanitized(p.get("password", ""))
    if password and not 2 <= java_length(password) <= 64:
        violations.append(("invalidPassword", "Invalid password"))
    if not boolean_ish(p.get("guest", "")):
        violations.append(("validationError", "Guest must be a boolean value (true or false)"))
    if not boolean_ish(p.get("auth", "")):
        violations.append(("validationError", "Auth must be a boolean value (true or false)"))
    create_time = sanitized(p.get("createTime", ""))
    if create_time and java_number(create_time, 64) is None:
        violations.append(("validationError", "Value must be an integral number"))
    refusal = first_violation(violations)
    if refusal:
        return refusal
    if "fullName" not in p:
        # bbb-web throws (HTTP 500); sala answers politely.
        return refuse("missingParamFullName", "You must provide your name")
    # bbb-web parses the raw createTime, so " 123" or an empty one mismatch there; sala reads
    # the sanitized value and ignores an empty one (more lenient).
    if create_time and java_number(create_time, 64) != room.create_time:
        return refuse(
            "mismatchCreateTimeParam",
            "The createTime parameter submitted mismatches with the current meeting.",
        )
    # A valid role (any case) wins over the password. bbb-web compares the raw values; sala
    # also accepts them with surrounding spaces (more lenient).
    if CONTROL.sub("", p.get("role", "")).strip().lower() in ("moderator", "viewer"):
        return None
    if password in (room.attendee_pw, room.moderator_pw):
        return None
    # bbb-web 3.0 answers "Params required" as XML even with redirect=true; sala keeps the
    # 2.x key invalidPassword and honours `redirect` (docs/api.md).
    return refuse("invalidPassword", None)


# ------------------------------------------------------------------------------ values --
CHARS = st.characters(exclude_categories=("Cs",))  # a query string cannot carry lone surrogates
free_text = st.text(CHARS, max_size=24)
ODD_BOOLEANS = ["true", "TRUE", "True", "tRuE", "false", "FALSE", "fAlSe", "1", "0", ""]
NOT_BOOLEANS = ["yes", "no", "on", "t", "2", "-1", "truee", " true ", "verdadeiro"]
NUMBERS = ["0", "1", "-1", "+7", "007", "42", " 42", "2147483647", "2147483648", "-2147483648"]
NUMBERS += ["9223372036854775808", "1e3", "1.5", "0x1A", "\u0663", "\uff11\uff12", "+", "-"]
WORDS = [
    "https://example.com/x",
    "http://127.0.0.1:9/",
    "javascript:alert(1)",
    "#ff0000",
    "red",
    "url(http://evil.example/x)",
    "ALWAYS_DENY",
    "always_accept",
    "ASK_MODERATOR",
    "SOMETIMES",
    "VIDEO_FOCUS",
    "video_focus",
    "NO_SUCH_LAYOUT",
    "livekit",
    "blockNote",
    "requireApproval",
    "<b>Hi</b> %%CONFNAME%% <script>x</script>",
    '[{"url": "https://plugins.example/manifest.json"}]',
    '{"a": 1}',
    "[",
    "chat,polls, breakoutRooms",
    "日本語のテキスト",
    "\U0001f600",
    "x" * 300,
]
any_value = st.one_of(
    free_text,
    st.sampled_from(ODD_BOOLEANS + NOT_BOOLEANS + NUMBERS + WORDS),
    st.integers(-(2**70), 2**70).map(str),
)

# Every create parameter bbb-web 3.0 reads besides the validated ones (ApiParams and the names
# ParamsProcessorUtil reads), those it no longer reads, and those of later 3.0.x releases and 4.0.
CREATE_PARAMETERS = [
    "welcome",
    "moderatorOnlyMessage",
    "dialNumber",
    "webVoice",
    "maxParticipants",
    "loginURL",
    "logoutURL",
    "logoutTimer",
    "autoStartRecording",
    "allowStartStopRecording",
    "recordFullDurationMedia",
    "duration",
    "sequence",
    "freeJoin",
    "breakoutRoomsRecord",
    "breakoutRoomsPrivateChatEnabled",
    "breakoutRoomsCaptureSlides",
    "breakoutRoomsCaptureNotes",
    "breakoutRoomsCaptureSlidesFilename",
    "breakoutRoomsCaptureNotesFilename",
    "webcamsOnlyForModerator",
    "meetingCameraCap",
    "userCameraCap",
    "maxPinnedCameras",
    "bannerText",
    "bannerColor",
    "logo",
    "darklogo",
    "copyright",
    "muteOnStart",
    "allowModsToUnmuteUsers",
    "allowModsToEjectCameras",
    "allowRequestsWithoutSession",
    "lockSettingsDisableCam",
    "lockSettingsDisableMic",
    "lockSettingsDisablePrivateChat",
    "lockSettingsDisablePublicChat",
    "lockSettingsDisableNotes",
    "lockSettingsDisableNote",
    "lockSettingsHideUserList",
    "lockSettingsLockOnJoin",
    "lockSettingsLockOnJoinConfigurable",
    "lockSettingsHideViewersCursor",
    "lockSettingsHideViewersAnnotation",
    "guestPolicy",
    "allowPromoteGuestToModerator",
    "meetingKeepEvents",
    "endWhenNoModerator",
    "endWhenNoModeratorDelayInMinutes",
    "meetingLayout",
    "learningDashboardCleanupDelayInMinutes",
    "meetingExpireIfNoUserJoinedInMinutes",
    "meetingExpireWhenLastUserLeftInMinutes",
    "groups",
    "disabledFeatures",
    "disabledFeaturesExclude",
    "notifyRecordingIsOn",
    "presentationUploadExternalDescription",
    "presentationConversionCacheEnabled",
    "pluginManifests",
    "pluginManifestsFetchUrl",
    "maxNumPages",
    "cameraBridge",
    "screenShareBridge",
    "audioBridge",
    "meetingEndedURL",
    "preUploadedPresentationName",
    "preUploadedPresentationOverrideDefault",
    # no longer read by 3.0
    "learningDashboardEnabled",
    "virtualBackgroundsDisabled",
    "breakoutRoomsEnabled",
    "lockSettingsLockedLayout",
    "keepEvents",
    # later 3.0.x, "3.1" and 4.0
    "sharedNotesEditor",
    "sharedNotesInitialContentJsonUrl",
    "sharedNotesInitialContentMarkdown",
    "sharedNotesInitialContentMarkdownUrl",
    "clientSettingsOverrideJsonUrl",
    "multiUserWhiteboardEnabled",
    "lockSettingsPresenterPolicy",
    "notifyRecordingAppend",
    "requireUserConsentBeforeUnmuting",
    # metadata, plugin parameters and names nobody knows
    "meta_bbb-origin",
    "meta_endCallbackUrl",
    "meta_bad_key",
    "meta_",
    "plugin_my-plugin_x",
    "someFutureParam",
    "REcord",
]

UNIQUE = "{u}"
"""Replaced by a fresh token per request, so no two examples create the same meeting."""
NUMBER = "{n}"
"""Replaced by a fresh number per request, so no two voice bridges collide."""


def mostly(usual: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` seven times in eight: a request breaks one check or two, not all of them."""
    return st.integers(0, 7).flatmap(lambda i: odd if i == 0 else usual)


PLAIN = st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=", ")
padding = st.sampled_from([" ", "  ", "\t", "\x00", ",", "\u00a0", "\x85"])
meeting_ids = mostly(
    st.builds(lambda a, b: f"m{a}{UNIQUE}{b}z", st.text(PLAIN, max_size=20), st.text(PLAIN)),
    st.one_of(
        st.builds(lambda a, pad: f"{pad}{a}{UNIQUE}", free_text, padding),
        st.builds(lambda a: f"{a}{UNIQUE}", st.text(CHARS, min_size=250, max_size=260)),
        st.sampled_from(["", "x", " ", "\x01", "a,b"]),
    ),
)
names = mostly(
    st.builds(lambda t: f"Room {t}", free_text),
    st.one_of(free_text, st.sampled_from(["", " ", "x", " x ", "x" * 257, "\U0001f600" * 129])),
)
voice_bridges = mostly(
    st.sampled_from(["", NUMBER, f"+{NUMBER}", f"-{NUMBER}", f"000{NUMBER}", f" {NUMBER} "]),
    st.one_of(
        st.sampled_from([" ", f"{NUMBER}x", f"{NUMBER}.0", f"1{NUMBER}0000000", "0x1F", "+"]),
        # text that is never a number (numbers could repeat across examples and collide)
        free_text.filter(lambda v: java_number(sanitized(v), 64) is None),
    ),
)
passwords = mostly(
    st.one_of(st.just(""), st.builds(lambda t: f"pw{t}", st.text(CHARS, max_size=20))),
    st.one_of(
        st.sampled_from([" ", "x", " x ", "\U0001f600", "\U0001f600" * 32, "\U0001f600" * 33]),
        st.text(CHARS, max_size=70),
    ),
)
checked_booleans = mostly(
    st.sampled_from(ODD_BOOLEANS), st.one_of(st.sampled_from(NOT_BOOLEANS), free_text)
)
external_urls = st.sampled_from(VALID_EXTERNAL_URLS + INVALID_EXTERNAL_URLS)


def sent(draw: st.DrawFn, *, usually: bool) -> bool:
    """Whether a request carries a parameter: all but one time in sixteen for those clients
    always send, half the time for the others."""
    return draw(st.integers(0, 15)) > 0 if usually else draw(st.booleans())


@st.composite
def create_requests(draw: st.DrawFn) -> dict[str, str]:
    p: dict[str, str] = {}
    checked = {
        "name": names,
        "meetingID": meeting_ids,
        "voiceBridge": voice_bridges,
        "attendeePW": passwords,
        "moderatorPW": passwords,
        "record": checked_booleans,
        "isBreakoutRoom": checked_booleans,
    }
    for name, strategy in checked.items():
        if sent(draw, usually=name in ("name", "meetingID")):
            p[name] = draw(strategy)
    if draw(st.integers(0, 7)) == 0:
        p["isBreakout"] = draw(st.sampled_from(["true", "TRUE", "false", "", "1", "yes"]))
        if draw(st.booleans()):
            p["parentMeetingID"] = draw(st.sampled_from(["", f"no-such-parent-{UNIQUE}"]))
    if draw(st.integers(0, 7)) == 0:
        p["presentationUploadExternalUrl"] = draw(external_urls)
    if draw(st.integers(0, 7)) == 0:
        # preUploadedPresentation is fetched: only loopback or nothing usable.
        p["preUploadedPresentation"] = draw(
            st.sampled_from(["", "not a url", "http://127.0.0.1:9/a.pdf"])
        )
    for name in draw(st.lists(st.sampled_from(CREATE_PARAMETERS), max_size=25, unique=True)):
        p[name] = draw(any_value)
    return p


JOIN_FLAGS = ["guest", "auth", "bot", "excludeFromDashboard"]
JOIN_TEXTS = ["userID", "avatarURL", "webcamBackgroundURL", "firstName", "lastName"]
JOIN_TEXTS += ["enforceLayout", "defaultLayout", "sessionName", "userdata-bbb_auto_join_audio"]
JOIN_TEXTS += ["userdata-a-b", "userdata-bbb_custom_style", "userdata-", "someFutureParam"]


@st.composite
def join_requests(draw: st.DrawFn) -> dict[str, str]:
    p: dict[str, str] = {}
    optional = {
        "fullName": mostly(
            st.builds(lambda t: f"Ada {t}", free_text),
            st.sampled_from(["", "  ", "\x01", "Ana " * 80]),
        ),
        "role": st.sampled_from(["moderator", "MODERATOR", "Viewer", "viewer", "admin", "", "1"]),
        "password": mostly(
            st.sampled_from(["ap", "mp", "AP", "nope"]),
            st.one_of(st.sampled_from(["x", "", "x" * 65]), free_text),
        ),
        "createTime": mostly(
            st.sampled_from(["{ct}", "+{ct}", "0{ct}", " {ct}", ""]),
            st.sampled_from(["1", "-1", "abc", "1.5", "{ct}0", "{ct}x"]),
        ),
        "redirect": st.sampled_from(["true", "TRUE", "True", "false", "1", "0", "", "yes", "no"]),
        "logoutURL": st.sampled_from(["", "https://lms.example.com/bye?x=1", "not a url"]),
        "errorRedirectUrl": st.sampled_from(["https://lms.example.com/error"]),
    }
    for name, strategy in optional.items():
        if sent(draw, usually=name == "fullName"):
            p[name] = draw(strategy)
    for name in draw(st.lists(st.sampled_from(JOIN_FLAGS), max_size=4, unique=True)):
        p[name] = draw(checked_booleans)
    for name in draw(st.lists(st.sampled_from(JOIN_TEXTS), max_size=6, unique=True)):
        p[name] = draw(any_value)
    if draw(st.integers(0, 7)) == 0:
        p["presentationUploadExternalUrl"] = draw(external_urls)
    return p


# ------------------------------------------------------------------------------- tests --
@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the rules under test are parsing rules, the same on every database
    (tests/api/test_create_join_params.py covers what reaches PostgreSQL's columns)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


EXAMPLES = hypothesis_settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count(10**12)


def filled(template: Mapping[str, str], **extra: str) -> dict[str, str]:
    token, number = uuid.uuid4().hex[:12], str(next(_numbers))
    out = {}
    for name, value in template.items():
        value = value.replace(UNIQUE, token).replace(NUMBER, number)
        for key, replacement in extra.items():
            value = value.replace("{" + key + "}", replacement)
        out[name] = value
    return out


def assert_refused(response: httpx.Response, refusal: Refusal, shape: str = "error") -> None:
    root = xml(response)
    assert field(root, "returncode") == "FAILED", response.text
    key, message = field(root, "messageKey"), field(root, "message")
    assert refusal.allows(key, message), f"{key}: {message}, expected {set(refusal.answers)}"
    assert message
    assert not problems(shape, paths_for(shape, response.content)), response.text


@given(template=create_requests())
@EXAMPLES
async def test_create_accepts_what_bbb_accepts_and_refuses_with_its_keys(
    api: Api, template: dict[str, str]
) -> None:
    p = filled(template)
    response = await api.get("create", p)
    refusal = bbb_create(p)
    event("refused" if refusal else "created")
    if refusal is not None:
        assert_refused(response, refusal)
        return
    root = xml(response)
    assert field(root, "returncode") == "SUCCESS", f"{p}\n{response.text}"
    assert not problems("create", paths_for("create", response.content), "passwords")
    assert field(root, "meetingID") == p["meetingID"]
    assert field(root, "messageKey") == ""
    # Integers that do not parse fall back to the default (0 minutes: no limit).
    duration = java_number(CONTROL.sub("", p.get("duration", "")), 32)
    assert field(root, "duration") == str(0 if duration is None else duration)
    bridge = java_number(sanitized(p.get("voiceBridge", "")), 64)
    if bridge is not None and bridge > 0:
        # sala answers the number in canonical form (+5 and 005 name one media room).
        assert int(field(root, "voiceBridge")) == bridge
    info = xml(await api.get("getMeetingInfo", {"meetingID": p["meetingID"]}))
    # record: true in any case means true; 1 passes bbb-web's check and still means false.
    assert field(info, "recording") == str(parse_boolean(p.get("record", ""))).lower()
    users = java_number(CONTROL.sub("", p.get("maxParticipants", "")), 32) or 0
    assert field(info, "maxUsers") == str(max(users, 0))  # sala: a negative limit is no limit


@pytest.fixture
async def room(api: Api) -> Room:
    meeting_id = f"room-{uuid.uuid4()}"
    created = xml(
        await api.get(
            "create",
            {"name": "Room", "meetingID": meeting_id, "attendeePW": "ap", "moderatorPW": "mp"},
        )
    )
    return Room(meeting_id, int(field(created, "createTime")))


def redirect_target(p: Mapping[str, str]) -> str:
    """Where a refused join sends the browser: errorRedirectUrl, else the join's logoutURL when
    it is a URL, else the server's logout URL."""
    if p.get("errorRedirectUrl"):
        return p["errorRedirectUrl"]
    if p.get("logoutURL", "").startswith("https://"):
        return p["logoutURL"]
    return "https://sala.test/"


@given(template=join_requests())
@EXAMPLES
async def test_join_accepts_what_bbb_accepts_and_refuses_with_its_keys(
    api: Api, room: Room, template: dict[str, str]
) -> None:
    p = {"meetingID": room.meeting_id, **filled(template, ct=str(room.create_time))}
    response = await api.get("join", p)
    refusal = bbb_join(p, room)
    event("refused" if refusal else "joined")
    # `redirect`: anything but true (any case) answers XML; absent or empty means true.
    redirect = p.get("redirect", "") == "" or parse_boolean(p["redirect"])
    # bbb-web 3.0 redirects validation failures even with redirect=false; sala answers them as
    # XML then, as BBB 2.x did (docs/api.md), since API clients that ask for XML parse XML.
    if refusal is None and redirect:
        assert response.status_code == 302, response.text
        assert response.headers["location"].startswith("https://sala.test/room/join?sessionToken=")
    elif refusal is None:
        root = xml(response)
        assert field(root, "returncode") == "SUCCESS", f"{p}\n{response.text}"
        assert not problems("join", paths_for("join", response.content))
    elif redirect:
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(redirect_target(p)), location
        errors = json.loads(parse_qs(urlsplit(location).query)["errors"][0])
        assert len(errors) == 1 and refusal.allows(errors[0]["key"], errors[0]["message"]), errors
    else:
        assert_refused(response, refusal, "join.error")
