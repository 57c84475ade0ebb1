"""Chat at BBB 3.0's level (protocol version 2): replies, reactions, edits, deletions, typing
and clearing, what a second participant sees of each, the refusals, and the same chat after a
restart."""

from __future__ import annotations

from typing import Any

from sala.config import Settings
from tests.room.conftest import RoomClient, RoomServer, serve_room


async def say(client: RoomClient, text: str, **extra: Any) -> dict[str, Any]:
    """Send a chat message and return it as the sender's page receives it."""
    ref = f"say-{text[:20]}"
    await client.send({"type": "chat.send", "text": text, "ref": ref, **extra})
    reply = await client.expect_reply(ref)
    assert reply["type"] == "chat.message", reply
    return reply


async def test_reply_react_edit_delete_reach_the_others(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")

    first = await say(ada, "Lunch at noon?")
    assert (first["replyTo"], first["reactions"], first["editedAt"], first["deleted"]) == (
        None,
        [],
        None,
        False,
    )
    await bea.expect("chat.message", id=first["id"])
    answer = await say(bea, "Yes!", replyTo=first["id"])
    assert answer["replyTo"] == {"id": first["id"], "from": first["from"], "text": "Lunch at noon?"}
    seen = await ada.expect("chat.message", id=answer["id"])
    assert seen["replyTo"]["id"] == first["id"]

    await bea.send({"type": "chat.react", "message": first["id"], "emoji": "👍", "on": True})
    await ada.send({"type": "chat.react", "message": first["id"], "emoji": "👍", "on": True})
    reactions = await bea.expect(
        "chat.reactions", where=lambda m: len(m["reactions"][0]["users"]) == 2
    )
    [thumbs] = reactions["reactions"]
    assert thumbs["emoji"] == "👍" and set(thumbs["users"]) == {bea.me, ada.me}
    await bea.send({"type": "chat.react", "message": first["id"], "emoji": "👍", "on": False})
    taken_back = await ada.expect(
        "chat.reactions", where=lambda m: m["reactions"][0]["users"] == [ada.me]
    )
    assert taken_back["message"] == first["id"]

    await ada.send({"type": "chat.edit", "message": first["id"], "text": "Lunch at one?"})
    edited = await bea.expect("chat.edited")
    assert (edited["message"], edited["text"]) == (first["id"], "Lunch at one?")
    assert isinstance(edited["editedAt"], int)

    # Not hers to edit or delete; a moderator deletes anyone's.
    await bea.send({"type": "chat.edit", "message": first["id"], "text": "no", "ref": "e"})
    assert (await bea.expect_reply("e"))["code"] == "forbidden"
    await bea.send({"type": "chat.delete", "message": first["id"], "ref": "d"})
    assert (await bea.expect_reply("d"))["code"] == "forbidden"
    await ada.send({"type": "chat.delete", "message": answer["id"]})
    deleted = await bea.expect("chat.deleted")
    assert deleted == {
        "type": "chat.deleted",
        "message": answer["id"],
        "by": {"id": ada.me, "name": "Ada"},
    }
    # A deleted message is gone for replies, reactions and edits.
    await bea.send({"type": "chat.react", "message": answer["id"], "emoji": "🎉", "ref": "r"})
    assert (await bea.expect_reply("r"))["code"] == "not_found"
    await bea.send({"type": "chat.send", "text": "hm", "replyTo": answer["id"], "ref": "rr"})
    assert (await bea.expect_reply("rr"))["code"] == "not_found"
    await bea.send({"type": "chat.react", "message": first["id"], "emoji": "🍕", "ref": "u"})
    assert (await bea.expect_reply("u"))["code"] == "invalid"

    # A newcomer's welcome carries the same state.
    cyd = await room_server.client(meeting_id, "Cyd")
    history = (await cyd.welcomed())["chat"]
    assert [(m["text"], m["deleted"]) for m in history] == [("Lunch at one?", False), ("", True)]
    assert history[0]["reactions"] == [{"emoji": "👍", "users": [ada.me]}]
    assert history[0]["editedAt"] == edited["editedAt"]


async def test_private_chat_changes_reach_only_the_two(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    cyd = await room_server.joined(meeting_id, "Cyd")
    secret = await say(bea, "psst", to=ada.me)
    await ada.expect("chat.message", id=secret["id"])
    await bea.send({"type": "chat.edit", "message": secret["id"], "text": "psst!"})
    await ada.expect("chat.edited", message=secret["id"])
    await ada.send({"type": "chat.react", "message": secret["id"], "emoji": "🤔"})
    await bea.expect("chat.reactions", message=secret["id"])
    await ada.send({"type": "chat.typing", "to": bea.me})
    typing = await bea.expect("chat.typing")
    assert typing == {"type": "chat.typing", "user": ada.me, "name": "Ada", "to": bea.me}
    # Cyd cannot even find the message; she hears nothing of it.
    await cyd.send({"type": "chat.react", "message": secret["id"], "emoji": "🤔", "ref": "c"})
    assert (await cyd.expect_reply("c"))["code"] == "not_found"
    await cyd.send({"type": "chat.send", "text": "me too", "replyTo": secret["id"], "ref": "c2"})
    assert (await cyd.expect_reply("c2"))["code"] == "not_found"
    # A public reply to a private message would leak it.
    await ada.send({"type": "chat.send", "text": "ok", "replyTo": secret["id"], "ref": "a"})
    assert (await ada.expect_reply("a"))["code"] == "invalid"
    for kind in ("chat.message", "chat.edited", "chat.reactions", "chat.typing"):
        await cyd.nothing_of(kind, wait=0.1)


async def test_typing_goes_to_the_others_at_most_every_two_seconds(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    for _ in range(3):
        await bea.send({"type": "chat.typing"})
    assert (await ada.expect("chat.typing"))["to"] is None
    await ada.nothing_of("chat.typing", wait=0.5)
    await bea.nothing_of("chat.typing", wait=0.1)  # never to the typist
    await bea.nothing_of("error", wait=0.1)  # dropped, not refused


async def test_disabled_features_and_locks_hold(room_server: RoomServer) -> None:
    meeting_id = await room_server.create(
        disabledFeatures="chatMessageReactions,replyChatMessage,editChatMessage,deleteChatMessage"
    )
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    message = await say(ada, "hello")
    for request in (
        {"type": "chat.react", "message": message["id"], "emoji": "👍"},
        {"type": "chat.send", "text": "hi", "replyTo": message["id"]},
        {"type": "chat.edit", "message": message["id"], "text": "hello!"},
        {"type": "chat.delete", "message": message["id"]},
    ):
        await ada.send({**request, "ref": "x"})
        assert (await ada.expect_reply("x"))["code"] == "disabled", request

    other = await room_server.create()
    mod = await room_server.joined(other, "Mo", "MODERATOR")
    vic = await room_server.joined(other, "Vic")
    mine = await say(vic, "before the lock")
    theirs = await say(mod, "moderator text")
    await mod.send({"type": "lock.set", "disablePublicChat": True})
    await vic.expect("locks.updated")
    for request in (
        {"type": "chat.react", "message": theirs["id"], "emoji": "👍"},
        {"type": "chat.edit", "message": mine["id"], "text": "edited"},
        {"type": "chat.typing"},
    ):
        await vic.send({**request, "ref": "v"})
        assert (await vic.expect_reply("v"))["code"] == "locked", request
    # Taking back one's own words stays possible.
    await vic.send({"type": "chat.delete", "message": mine["id"]})
    await mod.expect("chat.deleted", message=mine["id"])
    await vic.send({"type": "chat.clear", "ref": "c"})
    assert (await vic.expect_reply("c"))["code"] == "forbidden"


async def test_clear_empties_public_chat_only(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada_cookie = await room_server.session(meeting_id, "Ada", "MODERATOR")
    ada = await RoomClient.open(room_server, ada_cookie)
    await ada.welcomed()
    bea = await room_server.joined(meeting_id, "Bea")
    await say(bea, "public words")
    private = await say(bea, "private words", to=ada.me)
    await ada.send({"type": "chat.clear"})
    assert (await bea.expect("chat.cleared"))["by"] == {"id": ada.me, "name": "Ada"}
    late = await room_server.client(meeting_id, "Bea again")
    assert (await late.welcomed())["chat"] == []
    ada_again = await RoomClient.open(room_server, ada_cookie)  # a second tab
    assert [m["id"] for m in (await ada_again.welcomed())["chat"]] == [private["id"]]


async def test_the_same_chat_after_a_restart(settings: Settings) -> None:
    async with serve_room(settings) as server:
        meeting_id = await server.create()
        ada = await server.joined(meeting_id, "Ada", "MODERATOR")
        kept = await say(ada, "kept")
        gone = await say(ada, "gone")
        await say(ada, "answer", replyTo=kept["id"])
        await ada.send({"type": "chat.react", "message": kept["id"], "emoji": "🎉"})
        await ada.expect("chat.reactions")
        await ada.send({"type": "chat.edit", "message": kept["id"], "text": "kept, edited"})
        await ada.expect("chat.edited")
        await ada.send({"type": "chat.delete", "message": gone["id"]})
        await ada.expect("chat.deleted")
        before = (await (await server.client(meeting_id, "Bea")).welcomed())["chat"]
        await ada.close()
    async with serve_room(settings) as server:
        bea = await server.client(meeting_id, "Cyd")
        after = (await bea.welcomed())["chat"]
        assert _timeless(after) == _timeless(before)
        assert [m["id"] for m in after][:2] == [kept["id"], gone["id"]]
        assert after[0]["text"] == "kept, edited" and after[0]["editedAt"] is not None
        assert after[1]["deleted"] and after[2]["replyTo"]["id"] == kept["id"]
        # An edit after the restart finds its message.
        cyd_mod = await server.joined(meeting_id, "Mo", "MODERATOR")
        await cyd_mod.send({"type": "chat.delete", "message": kept["id"]})
        assert (await bea.expect("chat.deleted"))["message"] == kept["id"]


def _timeless(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat without its times (the log's clock reading may differ by a millisecond)."""
    return [{k: v for k, v in m.items() if k not in ("ts", "editedAt")} for m in history]
