"""The bus between sala processes, carried by Redis (or Valkey) publish/subscribe.

`RedisBus` implements `sala.events.bus.Bus`. A message published in a process reaches that
process's own handlers at once, exactly once (as the in-process bus delivers them), and every
other process's handlers once: each message is tagged with this process's origin and the copy
Redis sends back to it is skipped.

Channels are subscribed on demand: the first local handler for a topic SUBSCRIBEs
`<prefix>bus:<topic>`, the last one leaving UNSUBSCRIBEs it, and "*" (every topic) is a
PSUBSCRIBE. So a front end receives only the traffic of the meetings it serves.

Delivery is at most once. Redis keeps no pub/sub history: what is published while a process is
disconnected never reaches it. The durable record is PostgreSQL's event log, so:

- Publishing never raises into the caller, whose change is already committed: while Redis is
  unreachable the message reaches this process's handlers only, and the loss is logged.
- The bus reconnects with bounded backoff, subscribes again, and then calls the `on_resync`
  callbacks, so subscribers that may have missed messages read PostgreSQL again. It also does
  so on its first connection, and when another process announces that it dropped messages
  while only its own link was down (that process publishes a notice once it is back).
- `in_sync` is False while the bus may be missing messages; caches must not be trusted then.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from sala.cluster.redis import DEFAULT_PREFIX, describe, redis_client
from sala.events.bus import Handler, ResyncCallback

log = logging.getLogger(__name__)

_ALL = "*"
_NOTICE = {"resync": True}


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        name: str = "sala",
        ping_interval_s: float = 5.0,
        backoff_s: tuple[float, float] = (0.1, 5.0),
        inbox_limit: int = 10_000,
    ) -> None:
        """`url`: the Redis URL. `name`: shown by `CLIENT LIST` (the node ID). The link is
        checked every `ping_interval_s` and given up after three intervals without an answer;
        reconnections wait between `backoff_s[0]` and `backoff_s[1]` seconds, doubling."""
        self._url = describe(url)
        # No retries inside redis-py: a retried PUBLISH may be delivered twice, and a silently
        # re-established subscription would hide the gap the resync callbacks must fill.
        self._client = redis_client(url, name=f"{name}:bus", retries=0, health_check_s=0)
        self._origin = uuid.uuid4().hex
        self._head = f'{{"o":"{self._origin}",'
        """Every payload this process publishes starts so; its echo is skipped unparsed."""
        self._topic_prefix = f"{prefix}bus:"
        self._pattern = f"{prefix}bus:*"
        self._control = f"{prefix}control"
        self._ping_s = ping_interval_s
        self._backoff_min, self._backoff_max = backoff_s
        self._handlers: dict[str, list[Handler]] = {}
        self._resync: list[ResyncCallback] = []
        self._inbox: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue(maxsize=inbox_limit)
        self._overflowed = False

        self._changed = asyncio.Event()
        """Set when the wanted subscriptions changed; the keeper task sends them."""
        self._settled = asyncio.Event()
        """Set while in sync and every wanted subscription is confirmed by Redis."""
        self._confirmed: set[str] = set()
        self._link = 0
        """Counts connections (and their losses): work for an older link is void."""
        self._subscribed_link = -1
        """The link whose first subscriptions were all confirmed."""
        self._in_sync = False
        self._down = False
        """The link was lost and is not back: publish drops at once instead of waiting."""
        self._dropped = 0
        self._owe_notice = False
        self._last_heard = 0.0
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._spawned: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------ the Bus API --
    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver to this process's handlers and, through Redis, to every other process's.

        Never raises for Redis: while it is unreachable the message reaches only this process
        (logged; PostgreSQL's event log stays the record, and the others resynchronise)."""
        handlers = [*self._handlers.get(topic, ()), *self._handlers.get(_ALL, ())]
        if handlers:
            await asyncio.gather(_deliver(topic, message, handlers), self._send(topic, message))
        else:
            await self._send(topic, message)

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        self._handlers.setdefault(topic, []).append(handler)
        self._wanted_changed()

        def unsubscribe() -> None:
            handlers = self._handlers.get(topic)
            if handlers is None or handler not in handlers:
                return
            handlers.remove(handler)
            if not handlers:
                del self._handlers[topic]
                self._wanted_changed()

        return unsubscribe

    def on_resync(self, callback: ResyncCallback) -> Callable[[], None]:
        self._resync.append(callback)

        def remove() -> None:
            if callback in self._resync:
                self._resync.remove(callback)

        return remove

    @property
    def in_sync(self) -> bool:
        return self._in_sync

    # ----------------------------------------------------------------------- lifecycle --
    async def start(self) -> None:
        """Start listening (in the background; returns at once, Redis up or not)."""
        if self._tasks or self._closing:
            return
        self._tasks = [
            asyncio.create_task(self._listen(), name="sala-bus-listen"),
            asyncio.create_task(self._dispatch(), name="sala-bus-dispatch"),
        ]

    async def wait_ready(self, timeout_s: float) -> bool:
        """Wait until connected and every subscription made so far is confirmed by Redis;
        False if that did not happen within `timeout_s`."""
        try:
            await asyncio.wait_for(self._settled.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self._closing = True
        pending = {*self._tasks, *self._spawned}
        # redis-py can swallow a cancellation that lands while it connects: cancel again
        # until the tasks are gone.
        for _ in range(20):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        if pending:
            log.error("the bus's tasks did not stop: %s", pending)
        self._tasks = []
        self._in_sync = False
        self._settled.clear()
        await self._client.aclose()

    # ------------------------------------------------------------------------ publishing --
    async def _send(self, topic: str, message: dict[str, Any]) -> None:
        if self._closing:
            return
        try:
            body = json.dumps(message, separators=(",", ":"))
        except (TypeError, ValueError):
            log.exception("bus message on %s is not JSON: other processes will not see it", topic)
            return
        if self._down:
            self._note_dropped(topic, None)
            return
        try:
            await self._client.publish(self._topic_prefix + topic, f'{self._head}"m":{body}}}')
        except Exception as exc:  # Redis' errors, and whatever else: never into the caller
            self._note_dropped(topic, exc)

    def _note_dropped(self, topic: str, exc: BaseException | None) -> None:
        self._dropped += 1
        self._owe_notice = True
        if self._dropped == 1:
            log.warning(
                "Redis %s unreachable (%s): bus messages reach only this process until it is "
                "back; the others will resynchronise from the database",
                self._url,
                exc or "link down",
            )
        else:
            log.debug("bus message on %s not sent to other processes", topic)

    async def _send_notice(self) -> None:
        """Tell every other process to resynchronise: messages from here were lost."""
        try:
            await self._client.publish(self._control, f'{self._head}"m":{json.dumps(_NOTICE)}}}')
        except (RedisError, OSError):
            return  # still owed; the keeper tries again
        if self._dropped:
            log.warning(
                "%d bus message(s) reached only this process while Redis was away", self._dropped
            )
        self._dropped = 0
        self._owe_notice = False

    # ------------------------------------------------------------------------- listening --
    def _wanted(self) -> set[str]:
        names = {self._topic_prefix + t for t in self._handlers if t != _ALL}
        names.add(self._control)
        if _ALL in self._handlers:
            names.add(self._pattern)
        return names

    def _wanted_changed(self) -> None:
        self._changed.set()
        self._check_settled()

    def _check_settled(self) -> None:
        if self._in_sync and self._wanted() <= self._confirmed:
            self._settled.set()
        else:
            self._settled.clear()

    async def _listen(self) -> None:
        delay = self._backoff_min
        while not self._closing:
            self._link += 1
            link = self._link
            try:
                await self._session(link)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Whatever broke the link (refused, reset, timed out, Redis restarting), the
                # answer is the same: a fresh connection, subscriptions sent again, a resync.
                if self._subscribed_link == link:
                    log.warning("lost Redis %s (%s); reconnecting", self._url, exc)
                else:
                    log.debug("Redis %s unreachable: %s", self._url, exc)
            if self._subscribed_link == link:
                delay = self._backoff_min
            self._lost()
            # Jitter, so that the processes of a cluster do not reconnect in lockstep.
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, self._backoff_max)

    def _lost(self) -> None:
        self._link += 1
        self._in_sync = False
        self._down = True
        self._confirmed.clear()
        self._settled.clear()

    async def _session(self, link: int) -> None:
        """One connection's life: subscribe, read and keep alive until something breaks."""
        pubsub = self._client.pubsub()
        try:
            self._changed.clear()
            sent: set[str] = set()
            await self._reconcile(pubsub, sent)  # connects; raises if Redis is unreachable
            if self._closing:
                return
            self._last_heard = asyncio.get_running_loop().time()
            tasks = [
                asyncio.create_task(self._read(pubsub, link)),
                asyncio.create_task(self._keep(pubsub, sent)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                task.result()
            raise RedisConnectionError("the subscription ended")
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _reconcile(self, pubsub: PubSub, sent: set[str]) -> None:
        """Send the SUBSCRIBE/UNSUBSCRIBE (P…) that make Redis' view match the handlers."""
        wanted = self._wanted()
        channels_on = sorted(n for n in wanted - sent if n != self._pattern)
        channels_off = sorted(n for n in sent - wanted if n != self._pattern)
        if channels_on:
            await pubsub.subscribe(*channels_on)
        if self._pattern in wanted and self._pattern not in sent:
            await pubsub.psubscribe(self._pattern)
        if channels_off:
            await pubsub.unsubscribe(*channels_off)
        if self._pattern in sent and self._pattern not in wanted:
            await pubsub.punsubscribe(self._pattern)
        sent.clear()
        sent.update(wanted)

    async def _read(self, pubsub: PubSub, link: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await pubsub.get_message(timeout=None)
            self._last_heard = loop.time()
            if message is None:
                continue
            kind = message["type"]
            name = message["channel"]
            if kind in ("subscribe", "psubscribe"):
                self._confirmed.add(name)
                if self._subscribed_link != link and self._wanted() <= self._confirmed:
                    self._subscribed_link = link
                    self._down = False
                    self._spawn(self._recover(link))
                self._check_settled()
            elif kind in ("unsubscribe", "punsubscribe"):
                self._confirmed.discard(name)
            elif kind in ("message", "pmessage"):
                data = message["data"]
                if not isinstance(data, str) or data.startswith(self._head):
                    continue  # this process's own message, delivered when it was published
                if name == self._control:
                    self._spawn(self._run_resync("another process lost bus messages"))
                elif name.startswith(self._topic_prefix):
                    group = _ALL if kind == "pmessage" else name[len(self._topic_prefix) :]
                    self._enqueue(group, name[len(self._topic_prefix) :], data)

    async def _recover(self, link: int) -> None:
        """Every subscription is in place, so nothing is missed from now on: let the
        subscribers read again what they may have missed, then say the bus is in sync."""
        if link > 1:
            log.warning("Redis %s is back; resynchronising", self._url)
        if self._owe_notice:
            await self._send_notice()
        await self._run_resync("connected to Redis")
        if self._link == link:
            self._in_sync = True
            self._check_settled()

    async def _keep(self, pubsub: PubSub, sent: set[str]) -> None:
        """Sends subscription changes, and PINGs a quiet link: a peer that vanished without
        closing the connection (a dead machine, a cut cable) is noticed within 3 intervals."""
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._ping_s)
            if self._changed.is_set():
                self._changed.clear()
                await self._reconcile(pubsub, sent)
            quiet = loop.time() - self._last_heard
            if quiet > 3 * self._ping_s:
                raise RedisConnectionError(f"no answer for {quiet:.1f}s")
            if quiet >= self._ping_s:
                await pubsub.ping()
            if self._owe_notice and self._in_sync:
                await self._send_notice()

    # ------------------------------------------------------------------------ delivering --
    def _enqueue(self, group: str, topic: str, data: str) -> None:
        try:
            self._inbox.put_nowait((group, topic, data))
        except asyncio.QueueFull:
            # Handlers fall behind; what does not fit is lost, so resynchronise once they
            # have caught up rather than let memory grow without bound.
            if not self._overflowed:
                log.warning("bus handlers are behind: dropping messages, then resynchronising")
            self._overflowed = True

    async def _dispatch(self) -> None:
        """Hands messages from other processes to the local handlers, one message at a time
        and in the order Redis sent them."""
        while True:
            group, topic, data = await self._inbox.get()
            handlers = list(self._handlers.get(group, ()))
            if handlers:
                try:
                    message = json.loads(data)["m"]
                except (ValueError, KeyError, TypeError):
                    log.warning("unreadable bus message on %s ignored", topic)
                else:
                    await _deliver(topic, message, handlers)
            if self._overflowed and self._inbox.empty():
                self._overflowed = False
                await self._run_resync("bus handlers fell behind")

    async def _run_resync(self, why: str) -> None:
        log.debug("bus resync: %s", why)
        for callback in list(self._resync):
            try:
                await callback()
            except Exception:
                log.exception("bus resync callback failed")

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)


async def _deliver(topic: str, message: dict[str, Any], handlers: list[Handler]) -> None:
    results = await asyncio.gather(*(h(topic, message) for h in handlers), return_exceptions=True)
    for result in results:
        # A failing subscriber must not break the publisher, whose change is committed.
        if isinstance(result, BaseException):
            log.error("bus subscriber failed on %s", topic, exc_info=result)
