"""Chat: public and private messages, their replies, reactions, edits and deletions, typing
notices, and messages from outside.

Owns the history (the last CHAT_HISTORY messages, rebuilt from the log when a room starts) and
the `chat.*` messages. A message's id is made when it is sent and logged with it, so it is the
same after a restart. Public chat can be disabled (disabledFeatures `chat`) or locked for
viewers; private chat likewise (`privateChat`); replies, reactions, edits and deletions each have
their disabledFeature too. Everything but typing is logged before it is announced, and replayed;
a private message's replies, reactions, edits and deletion reach only its two participants.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from sala.events import types
from sala.events.log import MeetingEvent
from sala.meetings import ids
from sala.meetings.model import Role
from sala.meetings.policy import Feature
from sala.room import protocol as p
from sala.room.connection import Connection
from sala.room.port import Participant, Refused, RoomPort, Routes, require_moderator, route

CHAT_HISTORY = 1000
EXCERPT_CHARS = 140
"""How much of a replied-to message a reply quotes."""
TYPING_EVERY_MS = 2000
"""A user's typing notices are relayed at most this often (the others are dropped)."""

Item = dict[str, Any]


class Chat:
    def __init__(self, room: RoomPort) -> None:
        self._room = room
        self.history: list[Item] = []
        self._by_id: dict[str, Item] = {}
        self._typed_at: dict[str, int] = {}

    def routes(self) -> Routes:
        return dict(
            [
                route(p.ChatSend, self.send),
                route(p.ChatReact, self.react),
                route(p.ChatEdit, self.edit),
                route(p.ChatDelete, self.delete),
                route(p.ChatTyping, self.typing),
                route(p.ChatClear, self.clear),
            ]
        )

    # --------------------------------------------------------------------------- replay --
    def replay(self, events: Sequence[MeetingEvent]) -> None:
        """The history as the log has it (a room starting after a restart)."""
        for event in events:
            data = event.data
            if event.type == types.CHAT_MESSAGE:
                self._remember(
                    _item(
                        str(data.get("id") or f"{event.ts}-{event.id}"),
                        {"id": event.user_id, "name": data.get("sender_name", "")},
                        data.get("to"),
                        data.get("message", ""),
                        event.ts,
                        data.get("reply_to"),
                    )
                )
            elif event.type == types.CHAT_REACTION:
                item = self._by_id.get(str(data.get("message")))
                if item is not None and event.user_id:
                    _toggle(item, str(data.get("emoji")), event.user_id, bool(data.get("on")))
            elif event.type == types.CHAT_EDITED:
                item = self._by_id.get(str(data.get("message")))
                if item is not None:
                    item["text"] = data.get("text", "")
                    item["editedAt"] = event.ts
            elif event.type == types.CHAT_DELETED:
                item = self._by_id.get(str(data.get("message")))
                if item is not None:
                    self._erase(item)
            elif event.type == types.CHAT_CLEARED:
                self._clear_public()

    def visible_to(self, user_id: str) -> list[Item]:
        """The history a participant may read: public messages and their own private ones."""
        return [m for m in self.history if _sees(user_id, m)]

    # ---------------------------------------------------------------------------- write --
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
        to_id = None if to is None else to.user_id
        reply_to = None
        if message.replyTo is not None:
            if not policy.enabled(Feature.CHAT_REPLIES):
                raise Refused("disabled", "Replies are disabled in this meeting", ref)
            quoted = self._message(me, message.replyTo, ref)
            if not _same_conversation(quoted, me.user_id, to_id):
                raise Refused("invalid", "Reply within the same conversation", ref)
            reply_to = {
                "id": quoted["id"],
                "from": quoted["from"],
                "text": quoted["text"][:EXCERPT_CHARS],
            }
        item = _item(
            ids.chat_message_id(),
            {"id": sender.internal_user_id, "name": sender.full_name},
            to_id,
            message.text,
            self._room.now_ms(),
            reply_to,
        )
        await self._room.log(
            me,
            types.CHAT_MESSAGE,
            {
                "id": item["id"],
                "chat": "public" if to is None else "private",
                "to": to_id,
                "message": message.text,
                "sender_name": sender.full_name,
                "reply_to": reply_to,
            },
        )
        self._remember(item)
        await self._room.broadcast({**copy.deepcopy(item), "ref": ref}, to=_audience(item))

    async def react(self, _conn: Connection, me: Participant, message: p.ChatReact) -> None:
        ref = message.ref
        if not self._room.policy.enabled(Feature.CHAT_REACTIONS):
            raise Refused("disabled", "Reactions to messages are disabled in this meeting", ref)
        if message.emoji not in p.REACTIONS:
            raise Refused("invalid", "Unknown reaction", ref)
        item = self._message(me, message.message, ref)
        self._may_write(me, item, ref)
        if not _toggle(item, message.emoji, me.user_id, message.on):
            return
        await self._room.log(
            me,
            types.CHAT_REACTION,
            {"message": item["id"], "emoji": message.emoji, "on": message.on},
        )
        await self._room.broadcast(
            {
                "type": "chat.reactions",
                "message": item["id"],
                "reactions": copy.deepcopy(item["reactions"]),
            },
            to=_audience(item),
        )

    async def edit(self, _conn: Connection, me: Participant, message: p.ChatEdit) -> None:
        ref = message.ref
        if not self._room.policy.enabled(Feature.CHAT_EDITS):
            raise Refused("disabled", "Editing messages is disabled in this meeting", ref)
        item = self._message(me, message.message, ref)
        if item["from"]["id"] != me.user_id:
            raise Refused("forbidden", "You can only edit your own messages", ref)
        self._may_write(me, item, ref)
        await self._room.log(me, types.CHAT_EDITED, {"message": item["id"], "text": message.text})
        item["text"] = message.text
        item["editedAt"] = self._room.now_ms()
        await self._room.broadcast(
            {
                "type": "chat.edited",
                "message": item["id"],
                "text": message.text,
                "editedAt": item["editedAt"],
            },
            to=_audience(item),
        )

    async def delete(self, _conn: Connection, me: Participant, message: p.ChatDelete) -> None:
        ref = message.ref
        if not self._room.policy.enabled(Feature.CHAT_DELETES):
            raise Refused("disabled", "Deleting messages is disabled in this meeting", ref)
        item = self._message(me, message.message, ref)
        moderator = me.attendee.role is Role.MODERATOR
        if item["from"]["id"] != me.user_id and not moderator:
            raise Refused("forbidden", "You can only delete your own messages", ref)
        await self._room.log(me, types.CHAT_DELETED, {"message": item["id"]})
        self._erase(item)
        await self._room.broadcast(
            {"type": "chat.deleted", "message": item["id"], "by": _who(me)},
            to=_audience(item),
        )

    async def typing(self, _conn: Connection, me: Participant, message: p.ChatTyping) -> None:
        ref = message.ref
        policy = self._room.policy
        private = message.to is not None
        if not policy.enabled(Feature.CHAT) or (
            private and not policy.enabled(Feature.PRIVATE_CHAT)
        ):
            raise Refused("disabled", "Chat is disabled in this meeting", ref)
        if not policy.can_chat_in(me.attendee, private):
            raise Refused("locked", "This chat is locked for viewers", ref)
        to = None if message.to is None else self._room.participant(message.to, ref)
        if to is me:
            raise Refused("invalid", "You cannot type to yourself", ref)
        now = self._room.now_ms()
        if now - self._typed_at.get(me.user_id, -TYPING_EVERY_MS) < TYPING_EVERY_MS:
            return  # a hint, not worth an error: the next one will do
        self._typed_at[me.user_id] = now
        notice = {
            "type": "chat.typing",
            "user": me.user_id,
            "name": me.attendee.full_name,
            "to": None if to is None else to.user_id,
        }
        await self._room.broadcast(notice, to=None if to is None else [to.user_id], but=me.user_id)

    async def clear(self, _conn: Connection, me: Participant, message: p.ChatClear) -> None:
        require_moderator(me, message.ref)
        await self._room.log(me, types.CHAT_CLEARED, {})
        self._clear_public()
        await self._room.broadcast({"type": "chat.cleared", "by": _who(me)})

    def forget(self, user_id: str) -> None:
        """A participant left: their typing throttle goes."""
        self._typed_at.pop(user_id, None)

    def from_outside(self, message: dict[str, Any]) -> dict[str, Any]:
        """A public message from sendChatMessage (already in the log): remembered, and returned
        as the room announces it."""
        now = self._room.now_ms()
        item = _item(
            str(message.get("id") or f"{now}-{len(self.history)}"),
            {"id": None, "name": message.get("sender_name", "System")},
            None,
            message.get("message", ""),
            now,
            None,
        )
        self._remember(item)
        return copy.deepcopy(item)

    # --------------------------------------------------------------------------- helpers --
    def _message(self, me: Participant, message_id: str, ref: str | None) -> Item:
        """A message this participant can see, not deleted; else Refused("not_found")."""
        item = self._by_id.get(message_id)
        if item is None or item["deleted"] or not _sees(me.user_id, item):
            raise Refused("not_found", "No such message", ref)
        return item

    def _may_write(self, me: Participant, item: Item, ref: str | None) -> None:
        """Whether the chat the message is in is open to this participant (locks)."""
        policy = self._room.policy
        private = item["to"] is not None
        if private and not policy.enabled(Feature.PRIVATE_CHAT):
            raise Refused("disabled", "Private chat is disabled in this meeting", ref)
        if not policy.can_chat_in(me.attendee, private):
            raise Refused("locked", "This chat is locked for viewers", ref)

    def _remember(self, item: Item) -> None:
        self.history.append(item)
        self._by_id[item["id"]] = item
        for gone in self.history[:-CHAT_HISTORY]:
            self._by_id.pop(gone["id"], None)
        del self.history[:-CHAT_HISTORY]

    def _erase(self, item: Item) -> None:
        item.update(text="", deleted=True, reactions=[], replyTo=None)
        for other in self.history:
            quoted = other["replyTo"]
            if quoted is not None and quoted["id"] == item["id"]:
                other["replyTo"] = {**quoted, "text": ""}

    def _clear_public(self) -> None:
        for item in self.history:
            if item["to"] is None:
                self._by_id.pop(item["id"], None)
        self.history = [m for m in self.history if m["to"] is not None]


def _item(
    message_id: str,
    sender: dict[str, Any],
    to: str | None,
    text: str,
    ts: int,
    reply_to: dict[str, Any] | None,
) -> Item:
    return {
        "type": "chat.message",
        "id": message_id,
        "from": sender,
        "to": to,
        "text": text,
        "ts": ts,
        "replyTo": reply_to,
        "reactions": [],
        "editedAt": None,
        "deleted": False,
    }


def _sees(user_id: str, item: Item) -> bool:
    return item["to"] is None or user_id in (item["to"], item["from"]["id"])


def _audience(item: Item) -> list[str] | None:
    """Who hears about a message and what happens to it: everybody, or its two participants."""
    return None if item["to"] is None else [item["from"]["id"], item["to"]]


def _same_conversation(item: Item, me: str, to: str | None) -> bool:
    if to is None or item["to"] is None:
        return to is None and item["to"] is None
    return {item["from"]["id"], item["to"]} == {me, to}


def _toggle(item: Item, emoji: str, user_id: str, on: bool) -> bool:
    """Give or take back one user's reaction; whether anything changed."""
    reactions: list[dict[str, Any]] = item["reactions"]
    entry = next((r for r in reactions if r["emoji"] == emoji), None)
    if on:
        if entry is None:
            reactions.append({"emoji": emoji, "users": [user_id]})
            return True
        if user_id in entry["users"]:
            return False
        entry["users"].append(user_id)
        return True
    if entry is None or user_id not in entry["users"]:
        return False
    entry["users"].remove(user_id)
    if not entry["users"]:
        reactions.remove(entry)
    return True


def _who(me: Participant) -> dict[str, str]:
    return {"id": me.user_id, "name": me.attendee.full_name}
