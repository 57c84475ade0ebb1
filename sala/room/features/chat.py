"""Chat: public and private messages, their history in the room, and messages from outside.

Owns the history (the last CHAT_HISTORY messages, rebuilt from the log when a room starts) and
`chat.send`. Public chat can be disabled (disabledFeatures `chat`) or locked for viewers;
private chat likewise (`privateChat`). Every message is logged (`chat-message`) before it is
announced; private ones reach only their two participants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, route

CHAT_HISTORY = 1000


class Chat:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self.history: list[dict[str, Any]] = []

    def routes(self) -> Routes:
        return dict([route(p.ChatSend, self.send)])

    def replay(self, events: Sequence[MeetingEvent]) -> None:
        """The history as the log has it (a room starting after a restart)."""
        for event in events:
            if event.type != types.CHAT_MESSAGE:
                continue
            self.history.append(
                {
                    "type": "chat.message",
                    "id": f"{event.ts}-{event.id}",
                    "from": {"id": event.user_id, "name": event.data.get("sender_name", "")},
                    "to": event.data.get("to"),
                    "text": event.data.get("message", ""),
                    "ts": event.ts,
                }
            )

    def visible_to(self, user_id: str) -> list[dict[str, Any]]:
        """The history a participant may read: public messages and their own private ones."""
        return [m for m in self.history if m["to"] is None or user_id in (m["to"], m["from"]["id"])]

    async def send(self, _conn: Connection, me: Participant, message: p.ChatSend) -> None:
        ref = message.ref
        policy = self._room.policy
        if not policy.enabled(Feature.CHAT):
            raise Refused("disabled", "Chat is disabled in this meeting", ref)
        sender = me.attendee
        if message.to is None:
            if not policy.can_public_chat(sender):
                raise Refused("locked", "Public chat is locked for viewers", ref)
            to = None
        else:
            if not policy.enabled(Feature.PRIVATE_CHAT):
                raise Refused("disabled", "Private chat is disabled in this meeting", ref)
            if not policy.can_private_chat(sender):
                raise Refused("locked", "Private chat is locked for viewers", ref)
            to = self._room.participant(message.to, ref)
            if to is me:
                raise Refused("invalid", "You cannot send a private message to yourself", ref)
        now = self._room.now_ms()
        item = {
            "type": "chat.message",
            "id": f"{now}-{len(self.history)}",
            "from": {"id": sender.internal_user_id, "name": sender.full_name},
            "to": None if to is None else to.user_id,
            "text": message.text,
            "ts": self._room.now_ms(),
            "ref": ref,
        }
        await self._room.log(
            me,
            types.CHAT_MESSAGE,
            {
                "chat": "public" if to is None else "private",
                "to": item["to"],
                "message": message.text,
                "sender_name": sender.full_name,
            },
        )
        self._remember(item)
        if to is None:
            await self._room.broadcast(item)
        else:
            await self._room.broadcast(item, to=[sender.internal_user_id, to.user_id])

    def from_outside(self, message: dict[str, Any]) -> dict[str, Any]:
        """A public message from sendChatMessage (already in the log): remembered, and returned
        as the room announces it."""
        now = self._room.now_ms()
        item = {
            "type": "chat.message",
            "id": f"{now}-{len(self.history)}",
            "from": {"id": None, "name": message.get("sender_name", "System")},
            "to": None,
            "text": message.get("message", ""),
            "ts": self._room.now_ms(),
        }
        self._remember(item)
        return item

    def _remember(self, item: dict[str, Any]) -> None:
        self.history.append({k: v for k, v in item.items() if k != "ref"})
        del self.history[:-CHAT_HISTORY]
