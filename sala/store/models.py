"""The database schema: every table sala keeps, for SQLite and PostgreSQL alike.

Live meeting state lives here rather than in process memory, so that several sala processes can
later share one PostgreSQL. Timestamps are epoch milliseconds (BBB's unit) stored as BIGINT.
Changes to this file need an Alembic migration in store/migrations/versions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class MeetingRow(Base):
    """One session of a room: from `create` until it ends. Ended rows stay as history."""

    __tablename__ = "meetings"

    internal_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256))
    create_time: Mapped[int] = mapped_column(BigInteger)
    voice_bridge: Mapped[str] = mapped_column(String(32))
    dial_number: Mapped[str] = mapped_column(String(64))
    attendee_pw: Mapped[str] = mapped_column(String(64))
    moderator_pw: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_participants: Mapped[int] = mapped_column(Integer, default=0)
    record: Mapped[bool] = mapped_column(Boolean, default=False)
    is_breakout: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_meeting_id: Mapped[str] = mapped_column(String(80), default="bbb-none")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Every create parameter, parsed (see api/create_params.py)."""
    modules_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The POST body of create (presentation modules), kept for the presentation feature."""

    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int] = mapped_column(BigInteger, default=0)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    forcibly_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    has_user_joined: Mapped[bool] = mapped_column(Boolean, default=False)
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[int] = mapped_column(BigInteger)
    empty_since: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    moderator_joined: Mapped[bool] = mapped_column(Boolean, default=False)
    """A moderator has been in the room at some point (endWhenNoModerator)."""
    no_moderator_since: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Since when no moderator has been in the room, after one was (endWhenNoModerator)."""
    next_deadline: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Earliest moment a lifecycle rule could end the meeting; indexed for the reaper."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped on every change, so cached renderings can tell they are stale."""

    __table_args__ = (
        # At most one live session per room: concurrent creates race on this index.
        Index(
            "uq_meetings_live_external_id",
            "external_id",
            unique=True,
            sqlite_where=text("ended = 0"),
            postgresql_where=text("ended = false"),
        ),
        # Voice bridges are unique among live meetings; this also makes the check an index probe.
        Index(
            "uq_meetings_live_voice_bridge",
            "voice_bridge",
            unique=True,
            sqlite_where=text("ended = 0"),
            postgresql_where=text("ended = false"),
        ),
        Index("ix_meetings_external_id_create_time", "external_id", "create_time"),
        Index("ix_meetings_next_deadline", "next_deadline"),
        # A parent's breakouts: listed in its answers, ended with it.
        Index("ix_meetings_parent_meeting_id", "parent_meeting_id"),
    )


class AttendeeRow(Base):
    """A user registered by `join`; `present` while their room connection is up."""

    __tablename__ = "attendees"

    internal_user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("meetings.internal_id", ondelete="CASCADE")
    )
    external_user_id: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    guest: Mapped[bool] = mapped_column(Boolean, default=False)
    guest_status: Mapped[str] = mapped_column(String(8), default="ALLOW")
    authenticated: Mapped[bool] = mapped_column(Boolean, default=True)
    avatar_url: Mapped[str] = mapped_column(Text, default="")
    custom_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    join_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    auth_token: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[int] = mapped_column(BigInteger)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    left_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    is_presenter: Mapped[bool] = mapped_column(Boolean, default=False)
    listening_only: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_voice: Mapped[bool] = mapped_column(Boolean, default=False)
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    client_type: Mapped[str] = mapped_column(String(16), default="HTML5")

    __table_args__ = (
        Index("ix_attendees_meeting_present", "meeting_id", "present"),
        Index("ix_attendees_meeting_external_user", "meeting_id", "external_user_id"),
    )


class TokenRow(Base):
    """Session tokens: the one-time token a join URL carries, and the room session it becomes."""

    __tablename__ = "tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "join" or "room"
    meeting_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("meetings.internal_id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("attendees.internal_user_id", ondelete="CASCADE")
    )
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_tokens_meeting", "meeting_id"),)


class MeetingEventRow(Base):
    """The append-only log of what happened in a meeting.

    Written in the same transaction as the change it describes; webhooks, the analytics
    callback and recordings read from it.
    """

    __tablename__ = "meeting_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    meeting_id: Mapped[str] = mapped_column(String(80))
    ts: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    xid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """PostgreSQL: the ID of the transaction that wrote the event, filled in by the database
    (migration 0011's default), so readers can tell which events are final
    (events/cursor.py). NULL on SQLite, whose readers go by ID."""

    __table_args__ = (
        Index("ix_meeting_events_meeting_id_id", "meeting_id", "id"),
        Index(
            "ix_meeting_events_xid_id",
            "xid",
            "id",
            sqlite_where=text("xid IS NOT NULL"),
            postgresql_where=text("xid IS NOT NULL"),
        ),
    )


class RecordingRow(Base):
    """A recording of one meeting session (record ID = internal meeting ID)."""

    __tablename__ = "recordings"

    record_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(256))
    """External meeting ID."""
    internal_meeting_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(256))
    is_breakout: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int] = mapped_column(BigInteger)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    raw_size: Mapped[int] = mapped_column(BigInteger, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    formats: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Playback formats: [{type, url, processing_time, length_ms, size, preview: [...]}]."""
    text_tracks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Caption tracks: [{kind, lang, label, source, file}]."""
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    """Playback only through one-time links (updateRecordings protect=true; Scalelite's)."""

    __table_args__ = (
        Index("ix_recordings_meeting_id", "meeting_id"),
        Index("ix_recordings_state", "state"),
    )


class UsedPlaybackLinkRow(Base):
    """A protected recording's one-time playback link that was used, kept until it would have
    expired anyway, so it cannot be used again (recordings/protection.py)."""

    __tablename__ = "used_playback_links"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class HookRow(Base):
    """A webhook registration (hooks/create): where to POST which meetings' events."""

    __tablename__ = "hooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    callback_url: Mapped[str] = mapped_column(Text)
    meeting_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """External meeting IDs this hook is bound to; empty for a global hook."""
    event_ids: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    raw: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_token: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why delivery stopped: "failing: ..." after the retry window, or "not enabled yet"."""
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("uq_hooks_callback_url", "callback_url", unique=True),)


class DeliveryRow(Base):
    """The outbox: one HTTP request to make, kept until it succeeded.

    Deliveries sharing an `ordering_key` (one hook and one meeting, or one callback) go out
    strictly in id order; a claim (`claimed_until`) keeps two workers from sending the same one.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # hook, analytics, end_callback
    # No foreign key: on SQLite the outbox lives in a file of its own (events/outbox.py), and
    # HookStore.destroy removes a hook's deliveries itself.
    hook_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ordering_key: Mapped[str] = mapped_column(String(160))
    url: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(64))
    meeting_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(12))  # pending, delivered, rejected
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retry_since: Mapped[int] = mapped_column(BigInteger)
    """Start of the retry window (creation, or the moment its hook was enabled again)."""
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    claimed_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_deliveries_pending", "status", "ordering_key", "id"),
        Index("ix_deliveries_hook", "hook_id", "status"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )


class CursorRow(Base):
    """How far a reader of the meeting event log got (the webhook fan-out's and the recordings
    pipeline's positions): the last event passed, by (transaction ID, ID); see
    events/cursor.py."""

    __tablename__ = "log_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_xid: Mapped[int] = mapped_column(BigInteger, default=0)
    """PostgreSQL: the transaction ID of that event (0 for events older than migration 0011);
    always 0 on SQLite."""


class PresentationRow(Base):
    """A meeting's document: where it came from, its conversion, and the page shown."""

    __tablename__ = "presentations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(256))
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(12))  # processing, ready, failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    page: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=False)
    downloadable: Mapped[bool] = mapped_column(Boolean, default=False)
    removable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    leased_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The process converting it (state `processing`); see presentations/leases.py."""
    lease_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Until when it holds the conversion unless it renews; then any front end may take it."""
    pages_done: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """While it converts: pages rendered so far (written at most every PROGRESS_EVERY_S)."""
    pages_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """While it converts: pages in all, once known."""
    wants_current: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """Whether it becomes current when ready: yes, no, if_none (none: if_none)."""

    __table_args__ = (Index("ix_presentations_state", "state"),)


class RecordingJobRow(Base):
    """A recording's way through the pipeline (archive, sanity, process, publish): the step it
    is at, so a restart resumes there, and why it failed if it did."""

    __tablename__ = "recording_jobs"

    record_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    step: Mapped[str] = mapped_column(String(16))  # archive, sanity, process, publish, done
    state: Mapped[str] = mapped_column(String(12))  # queued, running, failed, done
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    leased_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The worker running the job (state `running`); see recordings/pipeline.py."""
    lease_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Until when it holds the job unless it renews; after that any worker may take it."""

    __table_args__ = (Index("ix_recording_jobs_state", "state"),)


class LtiPlatformRow(Base):
    """A learning platform registered as an LTI 1.3 platform (sala/lti/platforms.py): where its
    logins start, its tokens come from and its keys are published. One row per (issuer,
    client_id): a platform may register sala more than once, each time with a client of its
    own."""

    __tablename__ = "lti_platforms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(1024))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(Text)
    """The platform's OIDC authorization endpoint, where a login's redirect goes."""
    auth_token_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Its OAuth 2 token endpoint (services such as Names and Roles), if it has one."""
    token_audience: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The `aud` its token endpoint expects in a client assertion, when not the endpoint's URL."""
    jwks_url: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(16), default="cli")  # cli | dynamic
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ux_lti_platforms_client", "issuer", "client_id", unique=True),)


class LtiDeploymentRow(Base):
    """A deployment of sala on a platform (LTI's `deployment_id`): launches name one, and only
    known ones are let in."""

    __tablename__ = "lti_deployments"

    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class LtiKeyRow(Base):
    """One of sala's own signing keys (RSA), published in its JWKS while not retired long ago;
    the newest active key signs."""

    __tablename__ = "lti_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LtiStateRow(Base):
    """A login in flight: the `state` and `nonce` sala sent the platform, used once by the
    launch that comes back."""

    __tablename__ = "lti_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    storage_target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The platform's postMessage storage frame (`lti_storage_target`) when it offered one: the
    launch may then prove the browser by that storage instead of the state cookie."""


class LtiNonceRow(Base):
    """A nonce of an id_token already accepted, kept until the token would have expired, so a
    replayed launch is refused."""

    __tablename__ = "lti_nonces"

    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class LtiSessionRow(Base):
    """What one verified launch lets its browser do, for a while: the landing page, joining, and
    (instructors) managing recordings. Its token travels in the page's URL, not in a cookie, so
    it works inside the platform's iframe where third-party cookies are blocked."""

    __tablename__ = "lti_sessions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    launch: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The launch's claims (the verified id_token's payload)."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
