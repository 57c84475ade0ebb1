"""What a meeting's settings allow whom, as create's parameters say it: the lock settings bind
viewers only, disabledFeatures binds everybody, camera caps and the moderators' powers."""

from __future__ import annotations

from dataclasses import replace

from sala.meetings.model import Role
from sala.meetings.policy import Feature, LockSettings, MeetingPolicy
from tests.meetings.factories import attendee, meeting

VIEWER = attendee("vic")
MODERATOR = attendee("mo", Role.MODERATOR)


def policy(**settings: object) -> MeetingPolicy:
    return MeetingPolicy.of(meeting(dict(settings)))


def test_nothing_is_locked_or_disabled_by_default() -> None:
    default = policy()
    for who in (VIEWER, MODERATOR):
        assert default.can_public_chat(who) and default.can_private_chat(who)
        assert default.can_edit_notes(who) and default.can_share_camera(who)
        assert default.can_use_microphone(who) and default.sees_whole_user_list(who)
        assert default.cursor_seen_by_all(who)
    assert all(default.enabled(feature) for feature in Feature)
    assert default.locks.view() == dict.fromkeys(
        [
            "disableCam",
            "disableMic",
            "disablePrivateChat",
            "disablePublicChat",
            "disableNotes",
            "hideUserList",
            "hideViewersCursor",
        ],
        False,
    )


def test_lock_settings_bind_viewers_and_not_moderators() -> None:
    locked = policy(
        lockSettingsDisableCam=True,
        lockSettingsDisableMic=True,
        lockSettingsDisablePrivateChat=True,
        lockSettingsDisablePublicChat=True,
        lockSettingsDisableNotes=True,
        lockSettingsHideUserList=True,
        lockSettingsHideViewersCursor=True,
    )
    assert not locked.can_public_chat(VIEWER) and locked.can_public_chat(MODERATOR)
    assert not locked.can_private_chat(VIEWER) and locked.can_private_chat(MODERATOR)
    assert not locked.can_edit_notes(VIEWER) and locked.can_edit_notes(MODERATOR)
    assert not locked.can_share_camera(VIEWER) and locked.can_share_camera(MODERATOR)
    assert not locked.can_use_microphone(VIEWER) and locked.can_use_microphone(MODERATOR)
    assert not locked.sees_whole_user_list(VIEWER) and locked.sees_whole_user_list(MODERATOR)
    assert not locked.cursor_seen_by_all(VIEWER) and locked.cursor_seen_by_all(MODERATOR)
    assert set(locked.locks.view().values()) == {True}


def test_one_lock_leaves_the_others_alone() -> None:
    only_public = policy(lockSettingsDisablePublicChat=True)
    assert not only_public.can_public_chat(VIEWER)
    assert only_public.can_private_chat(VIEWER) and only_public.can_share_camera(VIEWER)


def test_disabled_features_bind_moderators_too() -> None:
    no_chat = policy(disabledFeatures=["chat"])
    assert not no_chat.enabled(Feature.CHAT)
    assert not no_chat.can_public_chat(MODERATOR) and not no_chat.can_private_chat(MODERATOR)
    no_private = policy(disabledFeatures=["privateChat", "sharedNotes"])
    assert no_private.can_public_chat(MODERATOR) and not no_private.can_private_chat(MODERATOR)
    assert not no_private.can_edit_notes(MODERATOR)
    assert no_private.enabled(Feature.POLLS) and not no_private.enabled(Feature.SHARED_NOTES)


def test_lock_set_changes_only_the_locks_it_names() -> None:
    assert LockSettings.setting_changes({"disableCam": True, "disableMic": None}) == {
        "lockSettingsDisableCam": True
    }
    assert LockSettings.setting_changes({"hideUserList": False}) == {
        "lockSettingsHideUserList": False
    }
    # What lock.set changes, a new snapshot of the meeting reads back.
    changed = MeetingPolicy.of(
        meeting(LockSettings.setting_changes({"disablePublicChat": True, "disableNotes": None}))
    )
    assert changed.locks == LockSettings(disable_public_chat=True)


def test_the_camera_cap_counts_the_others_webcams() -> None:
    capped = policy(meetingCameraCap=2)
    assert not capped.camera_cap_reached(1)
    assert capped.camera_cap_reached(2)
    assert not policy(meetingCameraCap=0).camera_cap_reached(50)


def test_webcams_only_for_moderator() -> None:
    other_viewer = attendee("val")
    only_mods = policy(webcamsOnlyForModerator=True)
    assert only_mods.sees_camera_of(VIEWER, MODERATOR)
    assert not only_mods.sees_camera_of(VIEWER, other_viewer)
    assert not only_mods.sees_camera_of(VIEWER, None)
    assert only_mods.sees_camera_of(MODERATOR, other_viewer)
    assert policy().sees_camera_of(VIEWER, other_viewer)


def test_forced_listen_only_is_a_viewers_userdata() -> None:
    forced = {"bbb_force_listen_only": "true"}
    assert MeetingPolicy.listen_only_forced(replace(VIEWER, custom_data=forced))
    assert not MeetingPolicy.listen_only_forced(replace(MODERATOR, custom_data=forced))
    assert not MeetingPolicy.listen_only_forced(
        replace(VIEWER, custom_data={"bbb_force_listen_only": "false"})
    )
    assert not MeetingPolicy.listen_only_forced(VIEWER)


def test_a_ban_keeps_the_external_user_out_of_later_snapshots() -> None:
    first = policy()
    assert not first.banned(VIEWER)
    after = MeetingPolicy.of(meeting(first.ban(VIEWER.external_user_id)))
    assert after.banned(VIEWER) and not after.banned(MODERATOR)
    twice = MeetingPolicy.of(meeting(after.ban(MODERATOR.external_user_id)))
    assert twice.removed_user_ids == (VIEWER.external_user_id, MODERATOR.external_user_id)


def test_recording_and_media_settings() -> None:
    recorded = MeetingPolicy.of(meeting({"autoStartRecording": True}, record=True))
    assert recorded.starts_recording_on_join() and recorded.recording_controllable()
    not_recorded = MeetingPolicy.of(meeting({"autoStartRecording": True}, record=False))
    assert not not_recorded.starts_recording_on_join()
    assert not policy(allowStartStopRecording=False).recording_controllable()
    mods = policy(allowModsToUnmuteUsers=True, allowModsToEjectCameras="true", muteOnStart=True)
    assert mods.moderators_may_unmute_others() and mods.moderators_may_eject_cameras()
    assert mods.mute_on_start and not policy().mute_on_start


def test_chat_features_and_layouts_are_disabled_features_of_bbb() -> None:
    off = policy(
        disabledFeatures=[
            "chatMessageReactions",
            "replyChatMessage",
            "editChatMessage",
            "deleteChatMessage",
            "layouts",
        ]
    )
    for feature in (
        Feature.CHAT_REACTIONS,
        Feature.CHAT_REPLIES,
        Feature.CHAT_EDITS,
        Feature.CHAT_DELETES,
        Feature.LAYOUTS,
    ):
        assert not off.enabled(feature)
    assert off.can_public_chat(VIEWER)


def test_guest_policy_and_pushed_layout_read_back_from_the_settings() -> None:
    assert policy().guest_policy == "ALWAYS_ACCEPT" and policy().pushed_layout is None
    changed = policy(
        **MeetingPolicy.guest_policy_is("ASK_MODERATOR"),
        **MeetingPolicy.pushed_layout_is("VIDEO_FOCUS"),
    )
    assert changed.guest_policy == "ASK_MODERATOR" and changed.pushed_layout == "VIDEO_FOCUS"


def test_the_presenter_points_and_everybody_with_the_multi_user_whiteboard() -> None:
    presenter = replace(VIEWER, is_presenter=True)
    assert policy().may_point(presenter) and not policy().may_point(VIEWER)
    assert policy(multiUserWhiteboardEnabled=True).may_point(VIEWER)
