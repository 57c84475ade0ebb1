"""Polls in the room: the presenter asks, viewers answer once, live results reach the presenter
only, publishing shows everybody, and the log feeds webhooks and the analytics callback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.room.conftest import RoomServer
from tests.support.receiver import Receiver


async def test_a_poll_from_start_to_analytics(room_server: RoomServer, receiver: Receiver) -> None:
    meeting_id = await room_server.create(
        **{"meta_analytics-callback-url": receiver.url("/analytics")}
    )
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")  # presenter
    bea = await room_server.joined(meeting_id, "Bea")
    cyd = await room_server.joined(meeting_id, "Cyd")

    await bea.send({"type": "poll.start", "kind": "YN", "ref": "x"})
    assert (await bea.expect_reply("x"))["code"] == "forbidden"
    await ada.send(
        {
            "type": "poll.start",
            "kind": "custom",
            "question": "Best day?",
            "options": ["Mon", "Wed", "Fri"],
            "multiple": True,
        }
    )
    started = await bea.expect("poll.started")
    poll = started["poll"]
    assert (poll["question"], poll["answers"], poll["multiple"]) == (
        "Best day?",
        ["Mon", "Wed", "Fri"],
        True,
    )

    await bea.send({"type": "poll.answer", "poll": poll["id"], "choices": [1, 2], "ref": "b"})
    assert (await bea.expect_reply("b"))["type"] == "poll.answered"
    await bea.send({"type": "poll.answer", "poll": poll["id"], "choices": [0], "ref": "b2"})
    assert (await bea.expect_reply("b2"))["code"] == "already_answered"
    await cyd.send({"type": "poll.answer", "poll": poll["id"], "choices": [7], "ref": "c"})
    assert (await cyd.expect_reply("c"))["code"] == "invalid"
    await cyd.send({"type": "poll.answer", "poll": poll["id"], "choices": [1], "ref": "c2"})
    await cyd.expect_reply("c2")
    await ada.send({"type": "poll.answer", "poll": poll["id"], "choices": [0], "ref": "a"})
    assert (await ada.expect_reply("a"))["code"] == "forbidden"

    results = await ada.expect("poll.results", where=lambda m: m["responders"] == 2)
    assert [c["votes"] for c in results["counts"]] == [0, 2, 1]
    assert {r["name"]: r["answer"] for r in results["responses"]} == {
        "Bea": "Wed, Fri",
        "Cyd": "Wed",
    }
    await bea.nothing_of("poll.results")  # live results are the presenter's

    await ada.send({"type": "poll.publish"})
    published = await cyd.expect("poll.published")
    assert [c["votes"] for c in published["counts"]] == [0, 2, 1]
    # The result is also drawn on the current slide, where latecomers see it too.
    board = await cyd.expect("draw.added", where=lambda m: m["shape"]["tool"] == "poll")
    assert board["shape"]["text"] == "Best day?"
    assert [(c["key"], c["votes"]) for c in board["shape"]["result"]] == [
        ("Mon", 0),
        ("Wed", 2),
        ("Fri", 1),
    ]
    late = await room_server.client(meeting_id, "Dee")
    welcome = await late.welcomed()
    assert welcome["current"] == board["presentation"]
    assert board["shape"] in welcome["annotations"][str(board["page"])]

    await room_server.api("end", meetingID=meeting_id)
    for _ in range(100):
        if receiver.accepted():
            break
        await asyncio.sleep(0.1)
    [request] = [r for r in receiver.accepted() if r.path == "/analytics"]
    data: dict[str, Any] = json.loads(request.body)["data"]
    [summary] = data["polls"]
    assert summary["question"] == "Best day?"
    assert summary["votes"] == {"Mon": 0, "Wed": 2, "Fri": 1}
    votes = {a["name"]: a["engagement"]["poll_votes"] for a in data["attendees"]}
    assert votes == {"Ada": 0, "Bea": 1, "Cyd": 1, "Dee": 0}


async def test_typed_answers_anonymous_polls_and_disabled(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    ada = await room_server.joined(meeting_id, "Ada", "MODERATOR")
    bea = await room_server.joined(meeting_id, "Bea")
    await ada.send(
        {"type": "poll.start", "kind": "response", "question": "One word?", "anonymous": True}
    )
    poll = (await bea.expect("poll.started"))["poll"]
    assert poll["typed"] is True
    await bea.send({"type": "poll.answer", "poll": poll["id"], "text": "  sunny ", "ref": "t"})
    await bea.expect_reply("t")
    results = await ada.expect("poll.results", where=lambda m: m["responders"] == 1)
    assert results["counts"] == [{"key": "sunny", "votes": 1}] and results["responses"] == []
    await ada.send({"type": "poll.stop"})
    await bea.expect("poll.ended")
    await bea.send({"type": "poll.answer", "poll": poll["id"], "text": "late", "ref": "l"})
    assert (await bea.expect_reply("l"))["code"] == "closed"

    off = await room_server.create(disabledFeatures="polls")
    dan = await room_server.joined(off, "Dan", "MODERATOR")
    await dan.send({"type": "poll.start", "kind": "TF", "ref": "d"})
    assert (await dan.expect_reply("d"))["code"] == "disabled"
