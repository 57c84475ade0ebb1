"""The tables as SQLAlchemy Core objects, for queries that want rows rather than ORM objects."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from sala.store.models import (
    AttendeeRow,
    CursorRow,
    DeliveryRow,
    HookRow,
    LtiDeploymentRow,
    LtiKeyRow,
    LtiNonceRow,
    LtiPlatformRow,
    LtiSessionRow,
    LtiStateRow,
    MeetingEventRow,
    MeetingRow,
    PresentationRow,
    RecordingJobRow,
    RecordingRow,
    TokenRow,
    UsedPlaybackLinkRow,
)

meetings = cast(Table, MeetingRow.__table__)
attendees = cast(Table, AttendeeRow.__table__)
tokens = cast(Table, TokenRow.__table__)
meeting_events = cast(Table, MeetingEventRow.__table__)
recordings = cast(Table, RecordingRow.__table__)
hooks = cast(Table, HookRow.__table__)
deliveries = cast(Table, DeliveryRow.__table__)
log_cursors = cast(Table, CursorRow.__table__)
presentations = cast(Table, PresentationRow.__table__)
recording_jobs = cast(Table, RecordingJobRow.__table__)
used_playback_links = cast(Table, UsedPlaybackLinkRow.__table__)
lti_platforms = cast(Table, LtiPlatformRow.__table__)
lti_deployments = cast(Table, LtiDeploymentRow.__table__)
lti_keys = cast(Table, LtiKeyRow.__table__)
lti_states = cast(Table, LtiStateRow.__table__)
lti_nonces = cast(Table, LtiNonceRow.__table__)
lti_sessions = cast(Table, LtiSessionRow.__table__)
