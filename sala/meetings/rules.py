"""When a meeting ends by itself: the lifecycle rules as pure functions of its state and time.

The rules (guides + BBB): nobody joined within the expiry window; everyone left and the grace
period passed; nothing happened for the inactivity timeout; the `duration` ran out; with
`endWhenNoModerator`, no moderator has been in it for `endWhenNoModeratorDelayInMinutes`. The end
API and a moderator's "end meeting" end it at once and are not timers.

Deadlines are stored with the meeting (`next_deadline`), so a restart loses no timer: the reaper
picks up whatever fell due while sala was down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MINUTE_MS = 60_000


class EndReason(StrEnum):
    END_API = "end_api"
    MODERATOR = "moderator"
    NO_USER_JOINED = "no_user_joined"
    LAST_USER_LEFT = "last_user_left"
    INACTIVITY = "inactivity"
    DURATION = "duration"
    NO_MODERATOR = "no_moderator"
    """BBB's ENDED_DUE_TO_NO_MODERATOR."""

    @property
    def forcible(self) -> bool:
        """BBB's hasBeenForciblyEnded: someone ended it on purpose."""
        return self in (EndReason.END_API, EndReason.MODERATOR)


@dataclass(frozen=True)
class LifecycleState:
    create_time: int
    duration_minutes: int
    has_user_joined: bool
    participant_count: int
    empty_since: int | None
    last_activity_at: int
    expire_no_join_minutes: int
    expire_last_left_minutes: int
    inactivity_minutes: int
    no_moderator_delay_minutes: int | None = None
    """endWhenNoModerator's delay; None when the rule is off for this meeting."""
    moderator_joined: bool = False
    """A moderator has been in the meeting at some point."""
    no_moderator_since: int | None = None
    """When the last moderator left (or lost the role); None while one is in the meeting."""


def no_moderator_delay(settings: Mapping[str, Any], is_breakout: bool) -> int | None:
    """endWhenNoModerator's delay in minutes, or None when the rule does not apply.

    BBB 3.0 (akka-apps MeetingActor.checkIfNeedToEndMeetingWhenNoModerators): only when
    `endWhenNoModerator` is true and the meeting is not a breakout room, whose life the parent
    decides. The delay defaults to 1 minute; 0 or less ends the meeting at the next check.
    """
    if is_breakout or not _truthy(settings.get("endWhenNoModerator", False)):
        return None
    try:
        return int(settings.get("endWhenNoModeratorDelayInMinutes", 1))
    except (TypeError, ValueError):
        return 1


def _truthy(value: object) -> bool:
    # Stored parsed (a bool); a string only if an older parser kept the raw value.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def deadlines(state: LifecycleState) -> dict[EndReason, int]:
    """Every rule that applies now, with the moment it would end the meeting."""
    found: dict[EndReason, int] = {}
    if state.duration_minutes > 0:
        found[EndReason.DURATION] = state.create_time + state.duration_minutes * MINUTE_MS
    if not state.has_user_joined and state.expire_no_join_minutes > 0:
        found[EndReason.NO_USER_JOINED] = (
            state.create_time + state.expire_no_join_minutes * MINUTE_MS
        )
    if (
        state.has_user_joined
        and state.participant_count == 0
        and state.empty_since is not None
        and state.expire_last_left_minutes > 0
    ):
        found[EndReason.LAST_USER_LEFT] = (
            state.empty_since + state.expire_last_left_minutes * MINUTE_MS
        )
    if state.inactivity_minutes > 0:
        found[EndReason.INACTIVITY] = state.last_activity_at + state.inactivity_minutes * MINUTE_MS
    if (
        state.no_moderator_delay_minutes is not None
        and state.moderator_joined
        and state.no_moderator_since is not None
    ):
        # A meeting no moderator ever entered is never ended by this rule (BBB's
        # moderatorHasJoined); a moderator coming back clears no_moderator_since.
        found[EndReason.NO_MODERATOR] = (
            state.no_moderator_since + max(0, state.no_moderator_delay_minutes) * MINUTE_MS
        )
    return found


def next_deadline(state: LifecycleState) -> int | None:
    found = deadlines(state)
    return min(found.values()) if found else None


def due_reason(state: LifecycleState, now_ms: int) -> EndReason | None:
    """The rule that ends the meeting at `now_ms`, if any (the earliest one wins)."""
    due = [(at, reason) for reason, at in deadlines(state).items() if at <= now_ms]
    if not due:
        return None
    return min(due, key=lambda item: item[0])[1]
