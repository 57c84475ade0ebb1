"""Every `create` parameter of BBB 3.0: its type, default and validation, declared once.

`parse_create` turns the request's parameters into a CreateSpec plus a settings dictionary that
holds every known parameter (parsed), so features read them from the meeting later. Unknown
parameters are ignored, as BBB does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sala.api.errors import ApiError, missing_meeting_id, validation_error
from sala.api.params import Params, require_length
from sala.config import GuestPolicy, Settings
from sala.meetings.specs import CreateSpec


@dataclass(frozen=True)
class Bool:
    name: str
    default: bool


@dataclass(frozen=True)
class Int:
    name: str
    default: int


@dataclass(frozen=True)
class Text:
    name: str


@dataclass(frozen=True)
class Url:
    name: str


BOOLEANS = [
    Bool("record", False),
    Bool("autoStartRecording", False),
    Bool("allowStartStopRecording", True),
    Bool("recordFullDurationMedia", False),
    Bool("isBreakout", False),
    Bool("freeJoin", False),
    Bool("breakoutRoomsEnabled", True),
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
    Bool("lockSettingsLockedLayout", False),
    Bool("allowPromoteGuestToModerator", False),
    Bool("meetingKeepEvents", False),
    Bool("endWhenNoModerator", False),
    Bool("learningDashboardEnabled", True),
    Bool("virtualBackgroundsDisabled", False),
    Bool("preUploadedPresentationOverrideDefault", True),
    Bool("notifyRecordingIsOn", False),
    Bool("allowOverrideClientSettingsOnCreateCall", False),
    Bool("presentationConversionCacheEnabled", False),
    Bool("multiUserWhiteboardEnabled", False),
    Bool("notifyRecordingAppend", False),
    Bool("requireUserConsentBeforeUnmuting", False),
]

INTEGERS = [
    Int("duration", 0),
    Int("endWhenNoModeratorDelayInMinutes", 1),
    Int("learningDashboardCleanupDelayInMinutes", 2),
    Int("userCameraCap", 3),
    Int("meetingCameraCap", 0),
    Int("maxPinnedCameras", 3),
    Int("maxNumPages", 0),
    Int("logoutTimer", 0),
]

TEXTS = [
    Text("moderatorOnlyMessage"),
    Text("webVoice"),
    Text("bannerText"),
    Text("copyright"),
    Text("breakoutRoomsCaptureSlidesFilename"),
    Text("breakoutRoomsCaptureNotesFilename"),
    Text("preUploadedPresentationName"),
    Text("presentationUploadExternalDescription"),
    Text("pluginManifests"),
    Text("groups"),
    Text("cameraBridge"),
    Text("screenShareBridge"),
    Text("audioBridge"),
    Text("sharedNotesEditor"),
    Text("lockSettingsPresenterPolicy"),
    Text("sharedNotesInitialContent"),
]

URLS = [
    Url("logoutURL"),
    Url("loginURL"),
    Url("logo"),
    Url("darklogo"),
    Url("preUploadedPresentation"),
    Url("presentationUploadExternalUrl"),
    Url("meetingEndedURL"),
    Url("pluginManifestsFetchUrl"),
    Url("clientSettingsOverrideJsonUrl"),
]

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

_META_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DIGITS = re.compile(r"^\d{1,9}$")
_BOOLEAN_WORDS = {"true", "false"}


def parse_create(params: Params, settings: Settings, modules_xml: str | None) -> CreateSpec:
    external_id = _meeting_id(params)
    name = params.nonempty("name")
    if name is None:
        raise ApiError("emptyError", "You must provide a meeting name")
    require_length(name, "name", "Meeting name", 2, 256)

    parsed: dict[str, Any] = {}
    for spec in BOOLEANS:
        parsed[spec.name] = _strict_boolean(params, spec.name, spec.default)
    if "lockSettingsDisableNotes" not in params and "lockSettingsDisableNote" in params:
        parsed["lockSettingsDisableNotes"] = _strict_boolean(
            params, "lockSettingsDisableNote", False
        )
    for ispec in INTEGERS:
        parsed[ispec.name] = params.integer(ispec.name, ispec.default)
    for tspec in TEXTS:
        value = params.text(tspec.name)
        if value is not None:
            parsed[tspec.name] = value
    for uspec in URLS:
        value = params.nonempty(uspec.name)
        if value is not None:
            parsed[uspec.name] = _url(uspec.name, value)

    banner_color = params.nonempty("bannerColor")
    if banner_color is not None:
        if not _COLOR.match(banner_color):
            raise validation_error("Param 'bannerColor' must be a color like #RRGGBB")
        parsed["bannerColor"] = banner_color
    parsed["guestPolicy"] = params.choice(
        "guestPolicy", GuestPolicy, settings.default_guest_policy
    ).value
    layout = (params.nonempty("meetingLayout") or "SMART_LAYOUT").upper()
    if layout not in MEETING_LAYOUTS:
        raise validation_error(
            f"Param 'meetingLayout' must be one of {', '.join(sorted(MEETING_LAYOUTS))}"
        )
    parsed["meetingLayout"] = layout
    parsed["disabledFeatures"] = _disabled_features(params, parsed, settings)
    welcome = params.text("welcome", None)
    if welcome is None:
        welcome = settings.default_welcome_message
        if settings.default_welcome_message_footer and not parsed["isBreakout"]:
            welcome += "<br><br>" + settings.default_welcome_message_footer
    parsed["welcome"] = welcome
    parsed["logoutURL"] = parsed.get("logoutURL") or settings.logout_url

    attendee_pw = _password(params, "attendeePW")
    moderator_pw = _password(params, "moderatorPW")
    voice_bridge = params.nonempty("voiceBridge")
    if voice_bridge is not None and not _DIGITS.match(voice_bridge):
        raise validation_error("Voice bridge must be an integral value")

    is_breakout = parsed["isBreakout"]
    parent = params.nonempty("parentMeetingID")
    if is_breakout:
        parsed["sequence"] = params.integer("sequence", 0)
    raw_max = params.nonempty("maxParticipants")
    if raw_max is not None and re.fullmatch(r"-\d{1,18}", raw_max.strip()):
        # bbb-web parses it as a signed int: a negative limit means no limit, and some
        # client libraries send -1 by default.
        max_participants = 0
    else:
        max_participants = params.integer("maxParticipants", settings.default_max_participants)
    return CreateSpec(
        external_id=external_id,
        name=name,
        attendee_pw=attendee_pw,
        moderator_pw=moderator_pw,
        voice_bridge=voice_bridge,
        dial_number=params.nonempty("dialNumber") or settings.default_dial_number,
        duration_minutes=parsed["duration"],
        max_participants=max_participants,
        record=parsed["record"],
        is_breakout=is_breakout,
        parent_meeting_id=parent,
        metadata=parse_metadata(params),
        settings=parsed,
        modules_xml=modules_xml,
        expire_no_join_minutes=params.integer(
            "meetingExpireIfNoUserJoinedInMinutes",
            settings.meeting_expire_if_no_user_joined_minutes,
        ),
        expire_last_left_minutes=params.integer(
            "meetingExpireWhenLastUserLeftInMinutes",
            settings.meeting_expire_when_last_user_left_minutes,
        ),
    )


def parse_metadata(params: Params) -> dict[str, str]:
    """`meta_*` parameters: BBB keeps keys matching its pattern, lower-cased, and drops the rest."""
    metadata: dict[str, str] = {}
    for key, value in params.with_prefix("meta_").items():
        if _META_KEY.match(key):
            metadata.setdefault(key.lower(), value)
    return metadata


def _meeting_id(params: Params) -> str:
    external_id = params.nonempty("meetingID")
    if external_id is None:
        raise missing_meeting_id()
    if "meetingID" in params.changed_by_sanitizing:
        raise validation_error("Invalid meeting ID")
    if "," in external_id:
        raise validation_error("Meeting ID cannot contain ','")
    require_length(external_id, "meetingID", "Meeting ID", 2, 256)
    return external_id


def _password(params: Params, name: str) -> str | None:
    value = params.nonempty(name)
    if value is not None and not 2 <= len(value) <= 64:
        raise ApiError("invalidPassword", f"Param '{name}' must be between 2 and 64 characters")
    return value


def _strict_boolean(params: Params, name: str, default: bool) -> bool:
    value = params.nonempty(name)
    if value is None:
        return default
    if value.strip().lower() not in _BOOLEAN_WORDS:
        raise validation_error(f"Param '{name}' must be a boolean (true or false)")
    return value.strip().lower() == "true"


def _url(name: str, value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise validation_error(f"Param '{name}' is not a valid URL")
    return value


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
