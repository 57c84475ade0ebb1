"""When a meeting ends by itself: the lifecycle rules as pure functions of its state and time.

The rules (guides + BBB): nobody joined within the expiry window; everyone left and the grace
period passed; nothing happened for the inactivity timeout; the `duration` ran out. The end API
and a moderator's "end meeting" end it at once and are not timers.

Deadlines are stored with the meeting (`next_deadline`), so a restart loses no timer: the reaper
picks up whatever fell due while sala was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MINUTE_MS = 60_000


class EndReason(StrEnum):
    END_API = "end_api"
    MODERATOR = "moderator"
    NO_USER_JOINED = "no_user_joined"
    LAST_USER_LEFT = "last_user_left"
    INACTIVITY = "inactivity"
    DURATION = "duration"

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
