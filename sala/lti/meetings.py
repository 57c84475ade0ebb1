"""The meeting of an LTI activity: which one it is, how it is created and how a launch's user
joins it.

An activity (a resource link placed in a course) has one stable meeting ID, derived from the
platform's issuer, sala's client id there, the deployment and the resource link, so every launch of
it, by anybody and at any time, leads to the same room, and its recordings and attendance gather
under that ID across sessions. The meeting is created through the meetings service with create's own
parameter parsing (sala/api/create_params.py), so an LTI meeting gets the server's defaults and
behaves like an API meeting: webhooks, the analytics callback and recordings see it the same way,
with the launch's context in its metadata.

The activity's settings come from the launch's custom parameters (set by the deep linking form,
or by hand in the platform): `record`, `waitForModerator`, `guestPolicy`, `muteOnStart`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sala.api.create_params import parse_create
from sala.api.params import Params
from sala.config import Settings
from sala.lti.claims import Launch
from sala.meetings.model import Meeting, Role
from sala.meetings.service import MeetingService
from sala.meetings.specs import CreateSpec, JoinSpec

ID_PREFIX = "lti-"
USER_PREFIX = "lti-"
ORIGIN = "LTI"
GUEST_POLICIES = ("ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR", "ALWAYS_ACCEPT_AUTH")
TRUE_WORDS = ("true", "1", "yes", "on")


def _digest(*parts: str) -> str:
    # A separator that cannot occur in the parts' own encoding keeps ("a|b", "c") and
    # ("a", "b|c") apart.
    joined = "\x1f".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()


def meeting_id(launch: Launch) -> str:
    """`lti-` and 40 hex digits: the same for every launch of one activity, whoever launches it;
    well under BBB's 256 characters and without the commas create refuses."""
    # The client id too: an issuer may be shared (Canvas Cloud's is every school's), and a
    # platform registered twice must not reach the other registration's rooms.
    parts = (launch.issuer, launch.client_id, launch.deployment_id, launch.resource_link_id)
    return ID_PREFIX + _digest(*parts)[:40]


def user_id(issuer: str, sub: str) -> str:
    """The user's ID in sala's meetings (external user ID): one per platform account, the same
    in every activity, so attendance can be matched with the platform's roster."""
    return USER_PREFIX + _digest(issuer, sub)[:32]


def flag(launch: Launch, name: str) -> bool:
    return launch.custom.get(name, "").strip().lower() in TRUE_WORDS


def waits_for_moderator(launch: Launch) -> bool:
    return flag(launch, "waitForModerator")


def title(launch: Launch) -> str:
    return launch.resource_link_title or launch.context_title or "LTI"


def _meeting_name(launch: Launch) -> str:
    name = " ".join(title(launch).split())[:256]
    # create wants 2 to 256 characters.
    return name if len(name) >= 2 else f"{name} (LTI)".strip()


def metadata(launch: Launch) -> dict[str, str]:
    """What the meeting carries of the launch (meta_* of create): the course and the activity,
    as Moodle's and Greenlight's integrations name them, so hooks and recordings can be told
    apart by course."""
    found = {
        "bbb-origin": ORIGIN,
        "bbb-origin-version": "1.3",
        "bbb-origin-server-name": launch.issuer,
        "bbb-context-id": launch.context_id,
        "bbb-context-name": launch.context_title,
        "bbb-context-label": launch.context_label,
        "bbb-recording-name": title(launch),
        "bbb-lti-deployment-id": launch.deployment_id,
        "bbb-lti-resource-link-id": launch.resource_link_id,
    }
    return {key: value for key, value in found.items() if value}


def create_parameters(launch: Launch) -> list[tuple[str, str]]:
    """The create call an API client would make for this activity."""
    pairs = [
        ("meetingID", meeting_id(launch)),
        ("name", _meeting_name(launch)),
        ("record", "true" if flag(launch, "record") else "false"),
        ("muteOnStart", "true" if flag(launch, "muteOnStart") else "false"),
    ]
    policy = launch.custom.get("guestPolicy", "").strip().upper()
    if policy in GUEST_POLICIES:
        pairs.append(("guestPolicy", policy))
    pairs += [(f"meta_{key}", value) for key, value in metadata(launch).items()]
    return pairs


def create_spec(launch: Launch, settings: Settings) -> CreateSpec:
    return parse_create(Params(create_parameters(launch)), settings, None)


def join_spec(launch: Launch) -> JoinSpec:
    """The launch's user as the platform describes them, with the role their course roles map
    to; never a guest (the platform vouched for them)."""
    return JoinSpec(
        full_name=(launch.name or launch.email or _fallback_name(launch))[:256],
        role=Role.MODERATOR if launch.moderator else Role.VIEWER,
        external_user_id=user_id(launch.issuer, launch.sub),
        guest=False,
        avatar_url=launch.picture if launch.picture.startswith("https://") else "",
        custom_data={"bbb_override_default_locale": launch.locale},
    )


def _fallback_name(launch: Launch) -> str:
    # Platforms may withhold names (privacy settings): a name still has to show in the room.
    return {"pt-BR": "Participante", "es-ES": "Participante"}.get(launch.locale, "Participant")


@dataclass(frozen=True)
class Joined:
    url: str
    """Where the browser goes: the room's handoff with a one-time join token."""


@dataclass(frozen=True)
class Waiting:
    """The activity waits for a moderator, and none is in the meeting yet."""


class ActivityMeetings:
    """Joins a launch's user to their activity's meeting, creating it when needed."""

    def __init__(self, meetings: MeetingService, settings: Settings) -> None:
        self._meetings = meetings
        self._settings = settings

    async def live(self, launch: Launch) -> Meeting | None:
        return await self._meetings.get_live(meeting_id(launch))

    async def join(self, launch: Launch) -> Joined | Waiting:
        """Learners of an activity that waits for its moderator wait until one is in the
        meeting; everybody else creates it if need be (once: a second create finds it) and
        joins."""
        if not launch.moderator and waits_for_moderator(launch):
            meeting = await self.live(launch)
            if meeting is None or meeting.moderator_count == 0:
                return Waiting()
        else:
            await self._meetings.create(create_spec(launch, self._settings))
        joined = await self._meetings.join(meeting_id(launch), join_spec(launch))
        return Joined(f"/room/join?sessionToken={joined.session_token}")
