"""Every `create` parameter of BBB 3.0 and later: its type, default and bbb-web's checks,
declared once.

bbb-web 3.0 checks only the meeting name and ID, the voice bridge, the passwords, `record`,
`isBreakoutRoom` and `presentationUploadExternalUrl` (its CreateMeeting request class), and
answers with the key and message of the first violation its HashMap holds (sala/api/violations.py).
Everything else it reads leniently (ParamsProcessorUtil.processCreateParams): a boolean is
Boolean.parseBoolean, an integer that does not parse is the default, and free strings are stored.
`parse_create` does the same, so sala never refuses a create bbb-web accepts. Where bbb-web stores
a value sala cannot use safely (a logout URL that is not a URL, an unknown guest policy), sala
falls back to the default instead; the choices are in the comments below.

The result is a CreateSpec plus a settings dictionary holding every known parameter, parsed, which
features read from the meeting later. Unknown parameters are ignored, as BBB does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sala.api.errors import validation_error
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
from sala.config import GuestPolicy, Settings
from sala.meetings.specs import CreateSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bool:
    name: str
    default: bool


@dataclass(frozen=True)
class Int:
    name: str
    default: int
    minimum: int | None = None
    """Values below it mean the default (bbb-web's rule for camera caps and pins)."""


BOOLEANS = [
    Bool("autoStartRecording", False),
    Bool("allowStartStopRecording", True),
    Bool("recordFullDurationMedia", False),
    Bool("isBreakout", False),
    Bool("freeJoin", False),
    Bool("breakoutRoomsRecord", False),
    Bool("breakoutRoomsPrivateChatEnabled", True),
    Bool("breakoutRoomsCaptureSlides", False),
    Bool("breakoutRoomsCaptureNotes", False),
    Bool("webcamsOnlyForModerator", False),
    Bool("muteOnStart", False),
    Bool("allowModsToUnmuteUsers", False),
    Bool("allowModsToEjectCameras", False),
    Bool("allowRequestsWithoutSession", False),
    Bool("lockSettingsDisableCam", False),
    Bool("lockSettingsDisableMic", False),
    Bool("lockSettingsDisablePrivateChat", False),
    Bool("lockSettingsDisablePublicChat", False),
    Bool("lockSettingsDisableNotes", False),
    Bool("lockSettingsHideUserList", False),
    Bool("lockSettingsLockOnJoin", True),
    Bool("lockSettingsLockOnJoinConfigurable", False),
    Bool("lockSettingsHideViewersCursor", False),
    Bool("lockSettingsHideViewersAnnotation", False),
    Bool("allowPromoteGuestToModerator", False),
    Bool("meetingKeepEvents", False),
    Bool("endWhenNoModerator", False),
    Bool("notifyRecordingIsOn", False),
    Bool("presentationConversionCacheEnabled", False),
    # later 3.0.x and 4.0
    Bool("multiUserWhiteboardEnabled", False),
    Bool("requireUserConsentBeforeUnmuting", False),
    # 2.x names 3.0 no longer reads; sala still turns them into disabledFeatures
    Bool("breakoutRoomsEnabled", True),
    Bool("learningDashboardEnabled", True),
    Bool("virtualBackgroundsDisabled", False),
    Bool("lockSettingsLockedLayout", False),
]

INTEGERS = [
    Int("duration", 0),
    Int("logoutTimer", 0),
    Int("endWhenNoModeratorDelayInMinutes", 1),
    Int("learningDashboardCleanupDelayInMinutes", 2),
    Int("userCameraCap", 3, minimum=0),
    Int("meetingCameraCap", 0, minimum=0),
    Int("maxPinnedCameras", 3, minimum=1),
    Int("maxNumPages", 0),
]

TEXTS = [
    "moderatorOnlyMessage",
    "webVoice",
    "loginURL",
    "bannerText",
    "copyright",
    "breakoutRoomsCaptureSlidesFilename",
    "breakoutRoomsCaptureNotesFilename",
    "preUploadedPresentation",
    "preUploadedPresentationName",
    "presentationUploadExternalDescription",
    "pluginManifests",
    "pluginManifestsFetchUrl",
    "groups",
    "cameraBridge",
    "screenShareBridge",
    "audioBridge",
    # later 3.0.x and 4.0
    "sharedNotesEditor",
    "sharedNotesInitialContentJsonUrl",
    "sharedNotesInitialContentMarkdown",
    "sharedNotesInitialContentMarkdownUrl",
    "clientSettingsOverrideJsonUrl",
    "lockSettingsPresenterPolicy",
    "notifyRecordingAppend",
]

# bbb-web stores these as given. sala stores only web URLs (and, for logos, data: images): the
# room navigates to the logout URL, shows the logos and calls the ended URL, and a
# `javascript:` address in any of them has no business there. Others are ignored (the default).
LINKS = {
    "logoutURL": ("http", "https"),
    "meetingEndedURL": ("http", "https"),
    "logo": ("http", "https", "data"),
    "darklogo": ("http", "https", "data"),
}
_WEB_URL = re.compile(r"^(https?)://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/[\w.+-]+[;,]\S*$", re.IGNORECASE)
# The room paints the banner with this value: a colour, never a url() or anything else CSS.
_COLOUR = re.compile(
    r"^(#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|[a-z]{3,32}"
    r"|(?:rgb|rgba|hsl|hsla)\([0-9.,%\s/degturn+-]{1,64}\))$",
    re.IGNORECASE,
)

MEETING_LAYOUTS = {
    "CUSTOM_LAYOUT",
    "SMART_LAYOUT",
    "PRESENTATION_FOCUS",
    "VIDEO_FOCUS",
    "CAMERAS_ONLY",
    "PRESENTATION_ONLY",
    "PARTICIPANTS_AND_CHAT_ONLY",
    "PARTICIPANTS_CHAT_ONLY",
    "MEDIA_ONLY",
    "PLUGINS_ONLY",
    "UNIFIED_LAYOUT",
}
DEFAULT_LAYOUT = "SMART_LAYOUT"

_META_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
DIAL_NUMBER_MAX = 64
"""The dial number column's size; bbb-web has no limit, so a longer one is cut, not refused."""


def parse_create(params: Params, settings: Settings, modules_xml: str | None) -> CreateSpec:
    """The meeting `params` ask for, or the ApiError bbb-web 3.0 would answer."""
    check_create(params)
    external_id = params.text("meetingID") or ""
    parsed: dict[str, Any] = {}
    for spec in BOOLEANS:
        parsed[spec.name] = params.java_boolean(spec.name, spec.default)
    if not params.nonempty("lockSettingsDisableNotes"):
        # 2.x spelling, still read by 3.0 when the new one is not given.
        parsed["lockSettingsDisableNotes"] = params.java_boolean(
            "lockSettingsDisableNote", parsed["lockSettingsDisableNotes"]
        )
    for ispec in INTEGERS:
        parsed[ispec.name] = params.java_integer(ispec.name, ispec.default, minimum=ispec.minimum)
    for name in TEXTS:
        value = params.text(name)
        if value is not None:
            parsed[name] = value
    external_url = params.text("presentationUploadExternalUrl")
    if external_url is not None:
        parsed["presentationUploadExternalUrl"] = external_url
    for name, schemes in LINKS.items():
        link = _link(params, name, schemes)
        if link is not None:
            parsed[name] = link
    colour = params.nonempty("bannerColor")
    if colour is not None:
        if _COLOUR.match(colour.strip()):
            parsed["bannerColor"] = colour.strip()
        else:
            log.info("create %s: bannerColor %r is not a colour; ignored", external_id, colour[:64])
    parsed["guestPolicy"] = _guest_policy(params, settings, external_id)
    parsed["meetingLayout"] = _layout(params)
    parsed["disabledFeatures"] = _disabled_features(params, parsed, settings)
    parsed["welcome"] = _welcome(params, settings, parsed["isBreakout"])
    parsed["logoutURL"] = parsed.get("logoutURL") or settings.logout_url
    parsed["preUploadedPresentationOverrideDefault"] = params.groovy_boolean(
        "preUploadedPresentationOverrideDefault", True
    )
    is_breakout = parsed["isBreakout"]
    if is_breakout:
        # bbb-web fails (HTTP 500) on a breakout without a `sequence` that parses; sala takes 0.
        parsed["sequence"] = params.java_integer("sequence", 0)
    max_participants = params.java_integer("maxParticipants", settings.default_max_participants)
    dial_number = params.nonempty("dialNumber") or settings.default_dial_number
    return CreateSpec(
        external_id=external_id,
        name=params.sanitized("name") or "",
        attendee_pw=params.sanitized("attendeePW") or None,
        moderator_pw=params.sanitized("moderatorPW") or None,
        voice_bridge=_voice_bridge(params),
        dial_number=dial_number[:DIAL_NUMBER_MAX],
        duration_minutes=parsed["duration"],
        # bbb-web keeps a negative limit (no limit either way); sala stores it as 0, "none".
        max_participants=max(max_participants, 0),
        record=java_boolean(params.text("record") or ""),
        is_breakout=is_breakout,
        parent_meeting_id=params.nonempty("parentMeetingID"),
        metadata=parse_metadata(params),
        settings=parsed,
        modules_xml=modules_xml,
        expire_no_join_minutes=params.java_integer(
            "meetingExpireIfNoUserJoinedInMinutes",
            settings.meeting_expire_if_no_user_joined_minutes,
        ),
        expire_last_left_minutes=params.java_integer(
            "meetingExpireWhenLastUserLeftInMinutes",
            settings.meeting_expire_when_last_user_left_minutes,
        ),
    )


def check_create(params: Params) -> None:
    """bbb-web 3.0's checks of a create request, with its keys and messages (CreateMeeting and
    its constraints, then ApiController.create's meeting ID check)."""
    external_url = params.text("presentationUploadExternalUrl")
    if external_url is not None and not is_java_url(external_url):
        # bbb-web checks this URL alone (and nothing else, the checksum included, when it is
        # valid, which sala does not copy).
        raise validation_error("Param 'presentationUploadExternalUrl' is not a valid URL")
    found = Violations()
    name = params.sanitized("name")
    name_message = "You must provide a meeting name"
    if name is None:
        found.add("nullError", name_message)
    else:
        if not name:
            found.add("emptyError", name_message)
        if not 2 <= java_length(name) <= 256:
            found.add("sizeError", "Meeting name must be between 2 and 256 characters")
    meeting_id = params.sanitized("meetingID")
    if meeting_id is not None:
        if not meeting_id:
            found.add("missingParamMeetingID", "You must provide a meeting ID")
        if not 2 <= java_length(meeting_id) <= 256:
            found.add("sizeError", "Meeting ID must be between 2 and 256 characters")
        if "," in meeting_id:
            found.add("validationError", "Meeting ID cannot contain ','")
    voice_bridge = params.sanitized("voiceBridge")
    if voice_bridge and java_integer(voice_bridge, LONG_RANGE) is None:
        found.add("validationError", "Voice bridge must be an integral value")
    for name in ("attendeePW", "moderatorPW"):
        password = params.sanitized(name)
        if password and not 2 <= java_length(password) <= 64:
            found.add("invalidPassword", "Invalid password")
    if not is_boolean_word(params.text("isBreakoutRoom") or ""):
        found.add(
            "validationError",
            "You must provide a boolean value (true or false) for the breakout room",
        )
    if not is_boolean_word(params.text("record") or ""):
        found.add("validationError", "Record must be a boolean value (true or false)")
    found.raise_first()
    if meeting_id is None or "meetingID" in params.changed_by_sanitizing:
        raise validation_error("Invalid meeting ID")


def parse_metadata(params: Params) -> dict[str, str]:
    """`meta_*` parameters: BBB keeps keys matching its pattern, lower-cased, and drops the rest."""
    metadata: dict[str, str] = {}
    for key, value in params.with_prefix("meta_").items():
        if _META_KEY.fullmatch(key):
            metadata.setdefault(key.lower(), value)
    return metadata


def _voice_bridge(params: Params) -> str | None:
    """Any long bbb-web takes, written the one way (+5, 005 and 5 are one media room). Zero and
    negative numbers cannot name a media room: sala picks a number then, as for none."""
    number = java_integer(params.sanitized("voiceBridge") or "", LONG_RANGE)
    return str(number) if number is not None and number > 0 else None


def _link(params: Params, name: str, schemes: tuple[str, ...]) -> str | None:
    value = params.nonempty(name)
    if value is None:
        return None
    value = value.strip()
    web = _WEB_URL.match(value)
    if (web and web.group(1).lower() in schemes) or (
        "data" in schemes and _DATA_IMAGE.match(value)
    ):
        return value
    log.info("create: %s %r is not a URL sala can use; ignored", name, value[:200])
    return None


def _guest_policy(params: Params, settings: Settings, meeting_id: str) -> str:
    """bbb-web stores any value, and an unknown one denies every viewer. sala reads the four
    policies in any case and takes the server's default for anything else, with a log line."""
    value = params.nonempty("guestPolicy")
    if value is None:
        return settings.default_guest_policy.value
    try:
        return GuestPolicy(value.strip().upper()).value
    except ValueError:
        log.warning(
            "create %s: unknown guestPolicy %r; using %s",
            meeting_id,
            value[:64],
            settings.default_guest_policy.value,
        )
        return settings.default_guest_policy.value


def _layout(params: Params) -> str:
    """bbb-web passes any value to the client; sala keeps the layouts it knows (any case) and
    uses its default for the rest."""
    value = (params.nonempty("meetingLayout") or DEFAULT_LAYOUT).strip().upper()
    return value if value in MEETING_LAYOUTS else DEFAULT_LAYOUT


def _welcome(params: Params, settings: Settings, is_breakout: bool) -> str:
    """bbb-web: an empty welcome is the default one; the footer goes under any welcome but a
    breakout room's (ParamsProcessorUtil.processWelcomeMessage)."""
    welcome = params.nonempty("welcome") or settings.default_welcome_message
    if settings.default_welcome_message_footer and not is_breakout:
        welcome += "<br><br>" + settings.default_welcome_message_footer
    return welcome


def _disabled_features(params: Params, parsed: dict[str, Any], settings: Settings) -> list[str]:
    features = list(settings.server_disabled_features)
    features += [f for f in params.csv("disabledFeatures") if f not in features]
    implied = {
        "learningDashboard": not parsed["learningDashboardEnabled"],
        "breakoutRooms": not parsed["breakoutRoomsEnabled"],
        "virtualBackgrounds": parsed["virtualBackgroundsDisabled"],
    }
    features += [f for f, on in implied.items() if on and f not in features]
    if parsed["isBreakout"] and "learningDashboard" not in features:
        features.append("learningDashboard")
    excluded = set(params.csv("disabledFeaturesExclude"))
    return [f for f in features if f not in excluded]
