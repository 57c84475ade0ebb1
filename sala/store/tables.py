"""The tables as SQLAlchemy Core objects, for queries that want rows rather than ORM objects."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from sala.store.models import AttendeeRow, MeetingEventRow, MeetingRow, RecordingRow, TokenRow

meetings = cast(Table, MeetingRow.__table__)
attendees = cast(Table, AttendeeRow.__table__)
tokens = cast(Table, TokenRow.__table__)
meeting_events = cast(Table, MeetingEventRow.__table__)
recordings = cast(Table, RecordingRow.__table__)
