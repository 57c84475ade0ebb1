"""What API calls may use: settings, clock and the domain services, handed in by build_app."""

from __future__ import annotations

from dataclasses import dataclass

from sala.clock import Clock
from sala.config import Settings
from sala.events.bus import Bus
from sala.events.destinations import DestinationPolicy
from sala.events.hooks import HookStore
from sala.meetings.history import MeetingHistory
from sala.meetings.service import MeetingService
from sala.meetings.sessions import RoomSessions
from sala.presentations.service import PresentationService
from sala.recordings.store import RecordingStore


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    clock: Clock
    bus: Bus
    meetings: MeetingService
    sessions: RoomSessions
    history: MeetingHistory
    recordings: RecordingStore
    hooks: HookStore
    destinations: DestinationPolicy
    presentations: PresentationService
