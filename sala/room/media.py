"""A meeting's conference media as the room sees it: who is in the audio and how, which webcams
and screens are published, and who may do what with them.

The rules are applied here (lock settings, forced listen-only, webcamsOnlyForModerator, camera
caps, the presenter's screen, moderators muting and ejecting), as the meeting's policy
(meetings/policy.py) states them; the engine (media/engine.py) only carries media. Every change
updates the attendee's flags (getMeetingInfo's counts), appends the BBB event to the log
(webhooks, analytics) and is announced to the room. Requests to the engine take milliseconds to
seconds, so they run outside the room's lock, one at a time per participant. Like the room's
other features, this one sees the room through its port (room/port.py).

Listen-only comes two ways, counted alike: the old one joins the bridge with a receive-only offer
(`media.audio.join`), the new one watches the meeting's mix as it is encoded once for every
listener (`media.listen.*`). A participant may hold both the stream and the bridge for a moment
while switching (make-before-break); they stay "in audio" throughout, so the counts and the BBB
events show one change (listen-only → voice, or back), never a leave and a join.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from pathlib import Path
from typing import Any

from sala.events import types
from sala.media.engine import Feed, FeedKind, MediaEngine, MediaError, MeetingMedia, Relayed
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, RoomPort, Route, Routes

log = logging.getLogger(__name__)

_DIRECTION = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", re.MULTILINE)


class MediaRefused(p.ProtocolError):
    pass


def receive_only(sdp: str) -> bool:
    """True when every media section of the offer only receives (a listen-only offer)."""
    sections = sdp.split("\nm=")[1:]
    if not sections:
        return False
    for section in sections:
        found = _DIRECTION.findall(section)
        if not found or found[0] not in ("recvonly", "inactive"):
            return False
    return True


def _user(attributes: dict[str, Any]) -> dict[str, Any]:
    """Event data whose `user` attributes bbb-webhooks puts next to the user's ids."""
    return {"user": attributes}


class RoomMedia:
    def __init__(
        self, room: RoomPort, engine: MediaEngine | None, capture_dir: Path | None = None
    ) -> None:
        self._room = room
        self._engine = engine
        self._capture_dir = capture_dir
        """Where the engine writes this meeting's media, if it is recorded."""
        self._media: MeetingMedia | None = None
        self._opening = asyncio.Lock()
        self._sessions: dict[str, Any] = {}
        self._session_locks: dict[str, asyncio.Lock] = {}
        self.feeds: dict[int, Feed] = {}
        self._up: set[int] = set()
        """Feeds whose media reached the engine: only these are offered to others (the
        engine refuses subscriptions to a publisher that is not sending yet)."""
        self._feed_ids = itertools.count(1)
        self._echoing: set[str] = set()
        """Who runs an echo test now."""
        self._bridged: set[str] = set()
        """Who is in the meeting's audio bridge (with a microphone, or the old listen-only)."""
        self._streaming: set[str] = set()
        """Who receives the meeting's forwarded mix (listen-only at no encoding cost)."""
        self._lecturing: set[asyncio.Task[None]] = set()
        """A presenter change on its way to the relays (`presenter_set`)."""

    @property
    def available(self) -> bool:
        return self._engine is not None

    def routes(self) -> Routes:
        """Every media message, handled outside the room's lock."""
        return {kind: Route(self.handle, locked=False) for kind in p.MEDIA_MESSAGES}

    # ------------------------------------------------------------------------ engine --
    async def _meeting_media(self) -> MeetingMedia:
        if self._engine is None:
            raise MediaRefused("media_unavailable", "Audio and video are not available here")
        async with self._opening:
            if self._media is None:
                number = int(self._room.meeting.voice_bridge)
                self._media = await self._engine.open_meeting(
                    self._room.id, number, self, self._capture_dir
                )
                presenter = next(
                    (q.user_id for q in self._room.everyone() if q.attendee.is_presenter), None
                )
                await self._media.lecturer(
                    None if presenter is None else self._relayable(presenter)
                )
            return self._media

    async def _session(self, me: Participant) -> Any:
        user_id = me.attendee.internal_user_id
        session = self._sessions.get(user_id)
        if session is None:
            media = await self._meeting_media()
            session = await media.participant(user_id, me.attendee.full_name)
            self._sessions[user_id] = session
        return session

    # ---------------------------------------------------------------------- messages --
    async def handle(self, conn: Connection, me: Participant, message: p.MediaMessage) -> None:
        user_id = me.attendee.internal_user_id
        lock = self._session_locks.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                await self._dispatch(conn, me, message)
        except MediaError as exc:
            raise MediaRefused(exc.code, exc.message, message.ref) from None

    async def _dispatch(self, conn: Connection, me: Participant, message: p.MediaMessage) -> None:
        ref = message.ref
        moderator = me.attendee.role is Role.MODERATOR
        if isinstance(message, p.AudioJoin):
            answer = await self._join_audio(me, message)
            conn.send({"type": "media.audio.answer", "sdp": answer, "ref": ref})
        elif isinstance(message, p.AudioLeave):
            await self._leave_audio(me)
            conn.send({"type": "media.audio.left", "ref": ref})
        elif isinstance(message, p.ListenStart):
            session = await self._session(me)
            offer = await session.start_listen()
            reply: dict[str, Any] = {"type": "media.listen.offer", "sdp": offer, "ref": ref}
            relayed = session.listen_relayed()
            if relayed is not None:  # v3: the stream's video carries these feeds
                reply["relayed"] = relayed
            conn.send(reply)
        elif isinstance(message, p.ListenAnswer):
            await self._listen_started(me, message.sdp)
            conn.send({"type": "media.listen.started", "ref": ref})
        elif isinstance(message, p.ListenStop):
            await self._stop_listen(me)
            conn.send({"type": "media.listen.stopped", "ref": ref})
        elif isinstance(message, p.ListenLayer):
            session = self._sessions.get(me.attendee.internal_user_id)
            if session is None:
                raise MediaRefused("not_relayed", "Your listen-only stream carries no webcam", ref)
            # The engine checks the feed against what the stream carries now: a webcam the
            # listener may not see is never relayed (`_relayable`).
            await session.listen_layer(message.feed, message.substream, message.temporal)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.AudioMute):
            if message.user is None or message.user == me.attendee.internal_user_id:
                await self._mute_self(me, message.muted, ref)
            else:
                if not moderator:
                    raise MediaRefused("forbidden", "Only moderators can mute others", ref)
                await self._mute_other(me, message.user, message.muted, ref)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.MuteAll):
            if not moderator:
                raise MediaRefused("forbidden", "Only moderators can mute everybody", ref)
            await self._mute_all(me, message)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.Publish):
            feed, answer = await self._publish(me, FeedKind(message.kind), message.sdp, ref)
            conn.send(
                {
                    "type": "media.published",
                    "kind": feed.kind.value,
                    "feed": feed.id,
                    "sdp": answer,
                    "ref": ref,
                }
            )
        elif isinstance(message, p.Unpublish):
            kind = FeedKind(message.kind)
            if message.user is None or message.user == me.attendee.internal_user_id:
                await self._unpublish(me.attendee.internal_user_id, kind)
            else:
                await self._eject(me, message.user, kind, ref)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.Subscribe):
            feed = self._visible_feed(me, message.feed, ref)
            offer = await (await self._session(me)).subscribe(feed)
            conn.send(
                {
                    "type": "media.offer",
                    "feed": feed.id,
                    "kind": feed.kind.value,
                    "user": feed.user_id,
                    "sdp": offer,
                    "ref": ref,
                }
            )
        elif isinstance(message, p.SubscribeAnswer):
            self._visible_feed(me, message.feed, ref)
            await (await self._session(me)).answer(message.feed, message.sdp)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.Unsubscribe):
            session = self._sessions.get(me.attendee.internal_user_id)
            if session is not None:
                await session.unsubscribe(message.feed)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.Quality):
            await self._choose_layer(me, message)
            conn.send({"type": "media.ok", "ref": ref})
        elif isinstance(message, p.EchoStart):
            answer = await self._start_echo(me, message)
            conn.send({"type": "media.echo.answer", "sdp": answer, "ref": ref})
        elif isinstance(message, p.EchoStop):
            await self._stop_echo(me.attendee.internal_user_id)
            conn.send({"type": "media.ok", "ref": ref})

    # --------------------------------------------------------------------- echo test --
    def _may_speak(self, me: Participant, ref: str | None) -> None:
        """Whether this participant may use a microphone (join with one, or test it)."""
        if not self._room.policy.can_use_microphone(me.attendee):
            raise MediaRefused(
                "locked", "Microphones are locked for viewers: join listen-only", ref
            )
        if self._room.policy.listen_only_forced(me.attendee):
            raise MediaRefused("forbidden", "You can only join the audio listen-only", ref)

    async def _start_echo(self, me: Participant, message: p.EchoStart) -> str:
        """BBB's echo test before joining with a microphone: the engine sends the voice back.
        Stopped by `media.echo.stop`, by joining the audio, or by leaving."""
        self._may_speak(me, message.ref)
        session = await self._session(me)
        answer: str = await session.start_echo(message.sdp)
        self._echoing.add(me.attendee.internal_user_id)
        return answer

    async def _stop_echo(self, user_id: str) -> None:
        session = self._sessions.get(user_id)
        self._echoing.discard(user_id)
        if session is not None:
            await session.stop_echo()

    # ------------------------------------------------------------------------- audio --
    async def _join_audio(self, me: Participant, message: p.AudioJoin) -> str:
        ref = message.ref
        listen_only = message.listenOnly
        if listen_only and not receive_only(message.sdp):
            raise MediaRefused("bad_sdp", "A listen-only offer must only receive audio", ref)
        if not listen_only:
            self._may_speak(me, ref)
        if me.attendee.internal_user_id in self._echoing:
            await self._stop_echo(me.attendee.internal_user_id)
        previous = me.audio
        if previous == "mic" and not listen_only:
            muted = me.muted
        else:
            muted = self._room.policy.mute_on_start
        session = await self._session(me)
        answer: str = await session.join_audio(message.sdp, muted=muted or listen_only)
        self._bridged.add(me.attendee.internal_user_id)
        await self._audio_left(me, previous, keep=("listen" if listen_only else "mic"))
        me.audio = "listen" if listen_only else "mic"
        me.muted = muted or listen_only
        if previous != me.audio:
            await self._room.update_media_flags(
                me,
                {"joined_voice": not listen_only, "listening_only": listen_only},
                types.LISTEN_ONLY_ENABLED if listen_only else types.VOICE_ENABLED,
                _user(
                    {"listening-only": True, "sharing-mic": False}
                    if listen_only
                    else {"sharing-mic": True, "listening-only": False, "muted": muted}
                ),
            )
        await self._room.publish_user(me)
        return answer

    async def _audio_left(self, me: Participant, previous: str | None, keep: str | None) -> None:
        if previous is None or previous == keep:
            return
        await self._room.update_media_flags(
            me,
            {"joined_voice": False, "listening_only": False},
            types.LISTEN_ONLY_DISABLED if previous == "listen" else types.VOICE_DISABLED,
            _user({"listening-only": False} if previous == "listen" else {"sharing-mic": False}),
        )

    async def _leave_audio(self, me: Participant) -> None:
        """Leaving the bridge. A participant who also receives the forwarded mix was switching
        from the microphone to listen-only: they stay in audio as a listener. Anybody else
        leaves the audio altogether (the stream too)."""
        user_id = me.attendee.internal_user_id
        session = self._sessions.get(user_id)
        if session is not None:
            await session.leave_audio()
        self._bridged.discard(user_id)
        previous = me.audio
        if user_id in self._streaming and previous == "mic":
            me.audio, me.muted, me.talking = "listen", True, False
            await self._audio_left(me, previous, keep="listen")
            await self._listening(me)
        else:
            if user_id in self._streaming and session is not None:
                await session.stop_listen()
            self._streaming.discard(user_id)
            me.audio, me.muted, me.talking = None, False, False
            await self._audio_left(me, previous, keep=None)
        await self._room.publish_user(me)

    async def _listening(self, me: Participant) -> None:
        await self._room.update_media_flags(
            me,
            {"joined_voice": False, "listening_only": True},
            types.LISTEN_ONLY_ENABLED,
            _user({"listening-only": True, "sharing-mic": False}),
        )

    # ------------------------------------------------------------------- listen-only --
    async def _listen_started(self, me: Participant, answer: str) -> None:
        """The browser answered the stream's offer: the participant is a listener now, unless
        they are in the bridge with a microphone (switching to listen-only: that happens when
        they leave the bridge)."""
        user_id = me.attendee.internal_user_id
        session = self._sessions.get(user_id)
        if session is None:
            raise MediaError("not_listening", "Start listening first")
        await session.listen_answer(answer)
        self._streaming.add(user_id)
        if me.audio is None:
            me.audio, me.muted, me.talking = "listen", True, False
            await self._listening(me)
            await self._room.publish_user(me)

    async def _stop_listen(self, me: Participant) -> None:
        """Stop receiving the stream. A participant already in the bridge (switching to the
        microphone) stays in audio; a plain listener leaves it."""
        user_id = me.attendee.internal_user_id
        session = self._sessions.get(user_id)
        if session is not None:
            await session.stop_listen()
        was_streaming = user_id in self._streaming
        self._streaming.discard(user_id)
        if was_streaming and me.audio == "listen" and user_id not in self._bridged:
            previous, me.audio, me.muted, me.talking = me.audio, None, False, False
            await self._audio_left(me, previous, keep=None)
            await self._room.publish_user(me)

    async def _mute_self(self, me: Participant, muted: bool, ref: str | None) -> None:
        if me.audio != "mic":
            raise MediaRefused("not_in_audio", "Join the audio with a microphone first", ref)
        if not muted and not self._room.policy.can_use_microphone(me.attendee):
            raise MediaRefused("locked", "Microphones are locked for viewers", ref)
        await (await self._session(me)).set_muted(muted)
        await self._set_muted(me, muted, by=None)

    async def _mute_other(
        self, me: Participant, user_id: str, muted: bool, ref: str | None
    ) -> None:
        target = self._room.participant(user_id, ref)
        if target.audio != "mic":
            raise MediaRefused("not_in_audio", "That user has no microphone in the audio", ref)
        if not muted and not self._room.policy.moderators_may_unmute_others():
            raise MediaRefused("forbidden", "Moderators cannot unmute others in this meeting", ref)
        await (await self._meeting_media()).mute(user_id, muted)
        await self._set_muted(target, muted, by=me.attendee.internal_user_id)

    async def _mute_all(self, me: Participant, message: p.MuteAll) -> None:
        await self._room.update_settings(self._room.policy.mute_on_start_is(message.muted))
        for target in self._room.everyone():
            if target is me or target.audio != "mic" or target.muted == message.muted:
                continue
            if message.exceptPresenter and target.attendee.is_presenter:
                continue
            if not message.muted and not self._room.policy.moderators_may_unmute_others():
                continue
            try:
                await (await self._meeting_media()).mute(
                    target.attendee.internal_user_id, message.muted
                )
            except MediaError as exc:
                log.info("could not mute %s: %s", target.attendee.internal_user_id, exc)
                continue
            await self._set_muted(target, message.muted, by=me.attendee.internal_user_id)

    async def _set_muted(self, target: Participant, muted: bool, by: str | None) -> None:
        if target.muted == muted:
            return
        target.muted = muted
        if muted:
            target.talking = False
        await self._room.log(
            target,
            types.AUDIO_MUTED if muted else types.AUDIO_UNMUTED,
            {**_user({"muted": muted}), **({"by": by} if by else {})},
        )
        await self._room.publish_user(target)

    # ------------------------------------------------------------------------- video --
    async def _publish(
        self, me: Participant, kind: FeedKind, sdp: str, ref: str | None
    ) -> tuple[Feed, str]:
        user_id = me.attendee.internal_user_id
        if kind is FeedKind.CAMERA:
            policy = self._room.policy
            if not policy.can_share_camera(me.attendee):
                raise MediaRefused("locked", "Webcams are locked for viewers", ref)
            cap = policy.meeting_camera_cap
            others = [f for f in self.feeds.values() if f.kind is kind and f.user_id != user_id]
            if policy.camera_cap_reached(len(others)):
                raise MediaRefused(
                    "camera_cap", f"This meeting allows {cap} webcams at a time", ref
                )
        else:
            if not self._room.policy.enabled(Feature.SCREENSHARE):
                raise MediaRefused("disabled", "Screen sharing is disabled in this meeting", ref)
            if not me.attendee.is_presenter:
                raise MediaRefused("forbidden", "Only the presenter can share a screen", ref)
            for feed in list(self.feeds.values()):
                if feed.kind is FeedKind.SCREEN and feed.user_id != user_id:
                    await self._unpublish(feed.user_id, FeedKind.SCREEN)
        feed = Feed(next(self._feed_ids), user_id, kind)
        answer: str = await (await self._session(me)).publish(feed, sdp)
        replaced = self._feed_of(user_id, kind)
        if replaced is not None:
            del self.feeds[replaced.id]
            self._up.discard(replaced.id)
        self.feeds[feed.id] = feed
        if replaced is None:
            if kind is FeedKind.CAMERA:
                await self._room.update_media_flags(
                    me, {"has_video": True}, types.CAM_STARTED, _user({"stream": str(feed.id)})
                )
            else:
                await self._room.log(me, types.SCREENSHARE_STARTED, {"stream": str(feed.id)})
        await self._announce_feeds()
        return feed, answer

    def _feed_of(self, user_id: str, kind: FeedKind) -> Feed | None:
        return next(
            (f for f in self.feeds.values() if f.user_id == user_id and f.kind is kind), None
        )

    async def _unpublish(self, user_id: str, kind: FeedKind, engine: bool = True) -> None:
        feed = self._feed_of(user_id, kind)
        session = self._sessions.get(user_id)
        if engine and session is not None:
            await session.unpublish(kind)
        if feed is None:
            return
        del self.feeds[feed.id]
        self._up.discard(feed.id)
        participant = self._room.find(user_id)
        if participant is not None:
            if kind is FeedKind.CAMERA:
                await self._room.update_media_flags(
                    participant,
                    {"has_video": False},
                    types.CAM_STOPPED,
                    _user({"stream": str(feed.id)}),
                )
            else:
                await self._room.log(
                    participant, types.SCREENSHARE_STOPPED, {"stream": str(feed.id)}
                )
        await self._announce_feeds()

    async def _eject(self, me: Participant, user_id: str, kind: FeedKind, ref: str | None) -> None:
        if me.attendee.role is not Role.MODERATOR:
            raise MediaRefused("forbidden", "Only moderators can stop someone else's webcam", ref)
        if kind is not FeedKind.CAMERA or not self._room.policy.moderators_may_eject_cameras():
            raise MediaRefused("forbidden", "Moderators cannot eject webcams in this meeting", ref)
        self._room.participant(user_id, ref)
        await self._unpublish(user_id, kind)
        self._stopped(user_id, kind, "moderator")

    async def _choose_layer(self, me: Participant, message: p.Quality) -> None:
        feed = self._visible_feed(me, message.feed, message.ref)
        if feed.kind is not FeedKind.CAMERA:
            # Screens are published in one layer, at full quality (docs/decisions.md).
            raise MediaRefused("invalid", "A screen is sent in one quality only", message.ref)
        session = self._sessions.get(me.attendee.internal_user_id)
        if session is None:
            raise MediaRefused("not_subscribed", "Subscribe to that webcam first", message.ref)
        await session.choose_layer(feed.id, message.substream, message.temporal)

    def _sees(self, viewer: Participant, feed: Feed) -> bool:
        if feed.kind is FeedKind.SCREEN or viewer.attendee.role is Role.MODERATOR:
            return True
        if feed.user_id == viewer.attendee.internal_user_id:
            return True
        owner = self._room.find(feed.user_id)
        return self._room.policy.sees_camera_of(
            viewer.attendee, None if owner is None else owner.attendee
        )

    def _visible_feed(self, me: Participant, feed_id: int, ref: str | None) -> Feed:
        feed = self.feeds.get(feed_id)
        if feed is None or feed_id not in self._up or not self._sees(me, feed):
            raise MediaRefused("not_found", "No such webcam or screen in this meeting", ref)
        if feed.user_id == me.attendee.internal_user_id:
            raise MediaRefused("invalid", "That is your own feed", ref)
        return feed

    def feeds_for(self, viewer: Participant) -> list[dict[str, Any]]:
        return [
            {"id": f.id, "user": f.user_id, "kind": f.kind.value}
            for f in self.feeds.values()
            if f.id in self._up and self._sees(viewer, f)
        ]

    async def _announce_feeds(self) -> None:
        for participant in self._room.everyone():
            self._room.send_to(
                participant.attendee.internal_user_id,
                {"type": "media.feeds", "feeds": self.feeds_for(participant)},
            )

    # ------------------------------------------------------------ changes from outside --
    async def locks_changed(self) -> None:
        """Lock settings changed: viewers lose what they may no longer have."""
        policy = self._room.policy
        for target in self._room.everyone():
            user_id = target.attendee.internal_user_id
            if not policy.can_share_camera(target.attendee) and self._feed_of(
                user_id, FeedKind.CAMERA
            ):
                await self._unpublish(user_id, FeedKind.CAMERA)
                self._stopped(user_id, FeedKind.CAMERA, "lock")
            mic_locked = not policy.can_use_microphone(target.attendee)
            if mic_locked and target.audio == "mic" and not target.muted and self._media:
                try:
                    await self._media.mute(user_id, True)
                except MediaError:
                    continue
                await self._set_muted(target, True, by=None)

    async def presenter_changed(self, previous: str) -> None:
        if self._feed_of(previous, FeedKind.SCREEN) is not None:
            await self._unpublish(previous, FeedKind.SCREEN)
            self._stopped(previous, FeedKind.SCREEN, "presenter")

    async def presenter_set(self, user_id: str) -> None:
        """A new presenter: media relayed to other nodes carry their webcam from now on. It is
        called inside the room's lock and may start a forwarder per relay node on the media
        server, so that work runs in a task of its own: the lock is not held waiting for it.
        Tasks of quick successive changes need no order: each reads the presenter at its start
        and the relays show, under their own lock, whatever is current when each runs."""
        if self._media is not None:
            task = asyncio.create_task(self._lecturer(self._media, self._relayable(user_id)))
            self._lecturing.add(task)
            task.add_done_callback(self._lecturing.discard)

    def _relayable(self, presenter: str) -> str | None:
        """Whose webcam relays may carry: the presenter's, unless `webcamsOnlyForModerator`
        hides it from viewers (a relay's stream goes to all its listeners alike, viewers
        included). Called again when the presenter's role changes."""
        if not self._room.policy.webcams_only_for_moderator:
            return presenter
        owner = self._room.find(presenter)
        moderator = owner is not None and owner.attendee.role is Role.MODERATOR
        return presenter if moderator else None

    async def _lecturer(self, media: MeetingMedia, user_id: str | None) -> None:
        try:
            await media.lecturer(user_id)
        except MediaError as exc:
            log.info("relays of %s not told the presenter: %s", self._room.id, exc)
        except Exception:
            log.exception("relays of %s not told the presenter", self._room.id)

    def _stopped(self, user_id: str, kind: FeedKind, by: str) -> None:
        self._room.send_to(user_id, {"type": "media.stopped", "kind": kind.value, "by": by})

    async def release(self, user_id: str) -> None:
        """The participant left: free everything they held on the engine."""
        for kind in FeedKind:
            await self._unpublish(user_id, kind, engine=False)
        session = self._sessions.pop(user_id, None)
        self._session_locks.pop(user_id, None)
        self._echoing.discard(user_id)
        self._bridged.discard(user_id)
        self._streaming.discard(user_id)
        if session is not None:
            try:
                await session.close()  # its echo test too
            except MediaError:
                log.info("closing %s's media failed", user_id)

    async def close(self) -> None:
        for task in list(self._lecturing):
            task.cancel()
        self._sessions.clear()
        self._bridged.clear()
        self._streaming.clear()
        self.feeds.clear()
        self._up.clear()
        if self._media is not None:
            media, self._media = self._media, None
            await media.close()

    # ------------------------------------------------------------- engine → room --
    async def talking(self, user_id: str, talking: bool) -> None:
        participant = self._room.find(user_id)
        if participant is None or participant.talking == talking:
            return
        if talking and (participant.audio != "mic" or participant.muted):
            return
        participant.talking = talking
        await self._room.log(
            participant, types.TALKING_STARTED if talking else types.TALKING_STOPPED, {}
        )
        if talking:
            await self._room.activity("talking")
        self._room.publish_talking(participant)

    async def feed_up(self, feed: Feed) -> None:
        if self.feeds.get(feed.id) == feed and feed.id not in self._up:
            self._up.add(feed.id)
            await self._announce_feeds()

    async def relayed(self, user_id: str, feeds: Relayed) -> None:
        """A relayed listener's stream carries other feeds now: their page shows those from
        the stream and subscribes to the others (docs/protocol.md, `media.listen.relayed`)."""
        self._room.send_to(user_id, {"type": "media.listen.relayed", "relayed": feeds})

    async def media_lost(self, user_id: str, what: str) -> None:
        """The engine lost this participant's media (a network that failed for good, or the
        media server restarted): forget it here and let the browser negotiate again."""
        participant = self._room.find(user_id)
        if what == "all":
            self._sessions.pop(user_id, None)
            self._bridged.discard(user_id)
            self._streaming.discard(user_id)
            for kind in FeedKind:
                await self._unpublish(user_id, kind, engine=False)
            if participant is not None and participant.audio is not None:
                previous, participant.audio, participant.talking = participant.audio, None, False
                await self._audio_left(participant, previous, keep=None)
                await self._room.publish_user(participant)
        elif what in (FeedKind.CAMERA.value, FeedKind.SCREEN.value):
            await self._unpublish(user_id, FeedKind(what), engine=False)
        self._room.send_to(user_id, {"type": "media.lost", "what": what})
