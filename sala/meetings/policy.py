"""What a meeting's settings allow whom: lock settings, disabledFeatures, camera caps and the
moderators' powers over others' media, read once from the settings into typed fields.

create stores these as BBB names them (`lockSettingsDisableCam`, `disabledFeatures`...); this is
the only module that reads those names. The room builds a MeetingPolicy from each snapshot of the
meeting it holds (at start, and after every settings change it makes) and asks it typed
questions. As in BBB, the lock settings apply to viewers only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sala.meetings.model import Attendee, Meeting, Role


class Feature(StrEnum):
    """The `disabledFeatures` of create that the room honours."""

    CHAT = "chat"
    PRIVATE_CHAT = "privateChat"
    RAISE_HAND = "raiseHand"
    REACTIONS = "userReactions"
    PRESENTATION = "presentation"
    POLLS = "polls"
    SHARED_NOTES = "sharedNotes"
    SCREENSHARE = "screenshare"
    CHAT_REACTIONS = "chatMessageReactions"
    CHAT_REPLIES = "replyChatMessage"
    CHAT_EDITS = "editChatMessage"
    CHAT_DELETES = "deleteChatMessage"
    LAYOUTS = "layouts"


GUEST_POLICIES = ("ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR", "ALWAYS_ACCEPT_AUTH")
"""What create's guestPolicy may hold (the room's `guest.policy` sets the first three)."""


_LOCK_SETTINGS = {
    "disableCam": "lockSettingsDisableCam",
    "disableMic": "lockSettingsDisableMic",
    "disablePrivateChat": "lockSettingsDisablePrivateChat",
    "disablePublicChat": "lockSettingsDisablePublicChat",
    "disableNotes": "lockSettingsDisableNotes",
    "hideUserList": "lockSettingsHideUserList",
    "hideViewersCursor": "lockSettingsHideViewersCursor",
}
"""The room protocol's lock names (`lock.set`, `locks`) and the create parameters they are."""


def _flag(value: Any) -> bool:
    """A stored boolean setting (create stores booleans; a string "true" reads as true too)."""
    return value is True or str(value).lower() == "true"


@dataclass(frozen=True)
class LockSettings:
    disable_cam: bool = False
    disable_mic: bool = False
    disable_private_chat: bool = False
    disable_public_chat: bool = False
    disable_notes: bool = False
    hide_user_list: bool = False
    hide_viewers_cursor: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LockSettings:
        on = {short: _flag(settings.get(long, False)) for short, long in _LOCK_SETTINGS.items()}
        return cls(
            disable_cam=on["disableCam"],
            disable_mic=on["disableMic"],
            disable_private_chat=on["disablePrivateChat"],
            disable_public_chat=on["disablePublicChat"],
            disable_notes=on["disableNotes"],
            hide_user_list=on["hideUserList"],
            hide_viewers_cursor=on["hideViewersCursor"],
        )

    def view(self) -> dict[str, bool]:
        """The `locks` of the room protocol (welcome, locks.updated)."""
        return {
            "disableCam": self.disable_cam,
            "disableMic": self.disable_mic,
            "disablePrivateChat": self.disable_private_chat,
            "disablePublicChat": self.disable_public_chat,
            "disableNotes": self.disable_notes,
            "hideUserList": self.hide_user_list,
            "hideViewersCursor": self.hide_viewers_cursor,
        }

    @staticmethod
    def setting_changes(requested: Mapping[str, bool | None]) -> dict[str, bool]:
        """The meeting settings a `lock.set` changes: only the locks it names (None: unchanged)."""
        return {
            _LOCK_SETTINGS[short]: value
            for short, value in requested.items()
            if value is not None and short in _LOCK_SETTINGS
        }


@dataclass(frozen=True)
class MeetingPolicy:
    locks: LockSettings
    disabled: frozenset[str]
    record: bool = False
    auto_start_recording: bool = False
    allow_start_stop_recording: bool = True
    notify_recording_is_on: bool = False
    mute_on_start: bool = False
    webcams_only_for_moderator: bool = False
    allow_mods_to_unmute_users: bool = False
    allow_mods_to_eject_cameras: bool = False
    meeting_camera_cap: int = 0
    """Webcams at a time in the whole meeting; 0: no cap."""
    multi_user_whiteboard: bool = False
    removed_user_ids: tuple[str, ...] = ()
    """External user IDs removed with a ban, in order: they cannot come back."""
    lobby_message: str = ""
    guest_policy: str = "ALWAYS_ACCEPT"
    pushed_layout: str | None = None
    """The last layout a moderator pushed to everybody (`layout.push`)."""

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingPolicy:
        s = meeting.settings
        cap = s.get("meetingCameraCap", 0) or 0
        return cls(
            locks=LockSettings.from_settings(s),
            disabled=meeting.disabled_features,
            record=meeting.record,
            auto_start_recording=_flag(s.get("autoStartRecording", False)),
            allow_start_stop_recording=_flag(s.get("allowStartStopRecording", True)),
            notify_recording_is_on=_flag(s.get("notifyRecordingIsOn", False)),
            mute_on_start=_flag(s.get("muteOnStart", False)),
            webcams_only_for_moderator=_flag(s.get("webcamsOnlyForModerator", False)),
            allow_mods_to_unmute_users=_flag(s.get("allowModsToUnmuteUsers", False)),
            allow_mods_to_eject_cameras=_flag(s.get("allowModsToEjectCameras", False)),
            meeting_camera_cap=int(cap),
            multi_user_whiteboard=_flag(s.get("multiUserWhiteboardEnabled", False)),
            removed_user_ids=tuple(s.get("removedUserIds", [])),
            lobby_message=str(s.get("lobbyMessage", "") or ""),
            guest_policy=str(s.get("guestPolicy") or "ALWAYS_ACCEPT"),
            pushed_layout=s.get("pushedLayout") or None,
        )

    # ------------------------------------------------------------------ disabledFeatures --
    def enabled(self, feature: Feature) -> bool:
        return feature.value not in self.disabled

    # ---------------------------------------------------------------------------- locks --
    @staticmethod
    def _viewer(attendee: Attendee) -> bool:
        return attendee.role is Role.VIEWER

    def can_public_chat(self, attendee: Attendee) -> bool:
        return self.enabled(Feature.CHAT) and not (
            self._viewer(attendee) and self.locks.disable_public_chat
        )

    def can_private_chat(self, attendee: Attendee) -> bool:
        return (
            self.enabled(Feature.CHAT)
            and self.enabled(Feature.PRIVATE_CHAT)
            and not (self._viewer(attendee) and self.locks.disable_private_chat)
        )

    def can_edit_notes(self, attendee: Attendee) -> bool:
        return self.enabled(Feature.SHARED_NOTES) and not (
            self._viewer(attendee) and self.locks.disable_notes
        )

    def can_use_microphone(self, attendee: Attendee) -> bool:
        """Speak: join with a microphone, or unmute. Listening is never locked."""
        return not (self._viewer(attendee) and self.locks.disable_mic)

    @staticmethod
    def listen_only_forced(attendee: Attendee) -> bool:
        """join's userdata-bbb_force_listen_only (BBB 3.0): a viewer may only listen;
        moderators, as they are now, are not affected."""
        forced = _flag(attendee.custom_data.get("bbb_force_listen_only"))
        return attendee.role is not Role.MODERATOR and forced

    def can_share_camera(self, attendee: Attendee) -> bool:
        return not (self._viewer(attendee) and self.locks.disable_cam)

    def sees_whole_user_list(self, attendee: Attendee) -> bool:
        """False: the list is hidden, and this viewer sees only moderators and themselves."""
        return not (self._viewer(attendee) and self.locks.hide_user_list)

    def cursor_seen_by_all(self, attendee: Attendee) -> bool:
        """False: hideViewersCursor, and this viewer's pointer shows only to moderators and
        the presenter."""
        return not (self._viewer(attendee) and self.locks.hide_viewers_cursor)

    def may_point(self, attendee: Attendee) -> bool:
        """The presenter's pointer; everybody's cursor while the multi-user whiteboard is on."""
        return attendee.is_presenter or self.multi_user_whiteboard

    # ----------------------------------------------------------------------------- chat --
    def can_chat_in(self, attendee: Attendee, private: bool) -> bool:
        return self.can_private_chat(attendee) if private else self.can_public_chat(attendee)

    # ---------------------------------------------------------------------------- media --
    def camera_cap_reached(self, others_sharing: int) -> bool:
        cap = self.meeting_camera_cap
        return bool(cap) and others_sharing >= cap

    def sees_camera_of(self, viewer: Attendee, owner: Attendee | None) -> bool:
        """webcamsOnlyForModerator: viewers see only moderators' webcams (and their own; the
        caller knows which is whose). Screens are seen by everybody."""
        if viewer.role is Role.MODERATOR or not self.webcams_only_for_moderator:
            return True
        return owner is not None and owner.role is Role.MODERATOR

    def moderators_may_unmute_others(self) -> bool:
        return self.allow_mods_to_unmute_users

    def moderators_may_eject_cameras(self) -> bool:
        return self.allow_mods_to_eject_cameras

    # ------------------------------------------------------------------------ recording --
    def recording_controllable(self) -> bool:
        """Whether moderators may start and stop the recording (a recorded meeting only)."""
        return self.allow_start_stop_recording

    def starts_recording_on_join(self) -> bool:
        return self.record and self.auto_start_recording

    # ---------------------------------------------------------------------------- seats --
    def banned(self, attendee: Attendee) -> bool:
        return attendee.external_user_id in self.removed_user_ids

    # ------------------------------------------------- what the room changes, as settings --
    def ban(self, external_user_id: str) -> dict[str, Any]:
        return {"removedUserIds": [*self.removed_user_ids, external_user_id]}

    @staticmethod
    def lobby_message_is(text: str) -> dict[str, Any]:
        return {"lobbyMessage": text}

    @staticmethod
    def multi_user_whiteboard_is(enabled: bool) -> dict[str, Any]:
        return {"multiUserWhiteboardEnabled": enabled}

    @staticmethod
    def mute_on_start_is(muted: bool) -> dict[str, Any]:
        return {"muteOnStart": muted}

    @staticmethod
    def guest_policy_is(policy: str) -> dict[str, Any]:
        """The setting create's guestPolicy stores, which joins read from then on."""
        if policy not in GUEST_POLICIES:
            raise ValueError(f"unknown guest policy {policy!r}")
        return {"guestPolicy": policy}

    @staticmethod
    def pushed_layout_is(layout: str) -> dict[str, Any]:
        return {"pushedLayout": layout}
