"""A meeting taken over: the process that held its room goes, another builds the room from the
meeting's event log and the store (as RoomHub does for any meeting it has no room for), and the
people who reconnect, with the same room cookies, find the meeting as they left it.

Each test runs one sala (`before`) on a database, stops it, and starts another (`after`) on the
same database: on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sala.clock import ManualClock, SystemClock
from sala.config import Settings
from tests.room.conftest import RoomClient, RoomServer, serve_room


@dataclass
class Person:
    """Someone in the meeting: their room cookie outlives the process that served them."""

    name: str
    cookie: str
    client: RoomClient

    async def reconnect(self, server: RoomServer) -> dict[str, Any]:
        """A new connection, as the page opens after losing its own; returns the welcome."""
        self.client = await RoomClient.open(server, self.cookie)
        return await self.client.welcomed()


async def person(
    server: RoomServer, meeting_id: str, name: str, role: str = "VIEWER", **extra: str
) -> Person:
    cookie = await server.session(meeting_id, name, role, **extra)
    client = await RoomClient.open(server, cookie)
    await client.welcomed()
    return Person(name, cookie, client)


async def settled(*people: Person) -> None:
    """Everything these people sent so far was handled (each connection is read in order)."""
    for who in people:
        await who.client.send({"type": "ping", "ref": "settled"})
        await who.client.expect_reply("settled")


def users(welcome: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in welcome["users"]}


def shape(shape_id: str) -> dict[str, Any]:
    return {"id": shape_id, "tool": "rect", "points": [[0.1, 0.1], [0.3, 0.2]]}


# ---------------------------------------------------------------------------- status --
async def test_hands_away_and_reactions_come_back(settings: Settings) -> None:
    clock = ManualClock(SystemClock().now_ms())
    async with serve_room(settings, clock) as before:
        meeting_id = await before.create()
        ada = await person(before, meeting_id, "Ada", "MODERATOR")
        bea = await person(before, meeting_id, "Bea")
        cyd = await person(before, meeting_id, "Cyd")
        dan = await person(before, meeting_id, "Dan")
        eve = await person(before, meeting_id, "Eve")
        fay = await person(before, meeting_id, "Fay")
        await dan.client.send({"type": "reaction.set", "emoji": "🤔"})
        await ada.client.expect("user.updated", where=lambda m: m["user"]["reaction"] == "🤔")
        clock.advance(seconds=30)
        await bea.client.send({"type": "hand.set", "raised": True})
        await cyd.client.send({"type": "away.set", "away": True})
        await eve.client.send({"type": "reaction.set", "emoji": "👏"})
        # Fay raises her hand, leaves for good (everybody saw her go), and comes back later.
        await fay.client.send({"type": "hand.set", "raised": True})
        await fay.client.send({"type": "away.set", "away": True})
        await fay.client.send({"type": "leave"})
        await ada.client.expect("user.left", user=fay.client.me)
        await settled(bea, cyd, eve)
        shown = users(await ada.reconnect(before))
        assert (shown["Bea"]["hand"], shown["Cyd"]["away"], shown["Eve"]["reaction"]) == (
            True,
            True,
            "👏",
        )
        assert shown["Dan"]["reaction"] == "🤔"

    clock.advance(seconds=35)  # Dan's reaction is 65 s old now, Eve's 35 s
    async with serve_room(settings, clock) as after:
        for who in (bea, cyd, dan, eve, fay):
            await who.reconnect(after)
        shown = users(await ada.reconnect(after))
        assert shown["Bea"]["hand"] is True
        assert shown["Cyd"]["away"] is True
        assert shown["Eve"]["reaction"] == "👏"
        # Past its minute: the page that set it would have taken it back by now.
        assert shown["Dan"]["reaction"] is None
        # Whoever left starts afresh, as in the room that saw them go.
        assert (shown["Fay"]["hand"], shown["Fay"]["away"]) == (False, False)
        assert all(not u["hand"] for n, u in shown.items() if n != "Bea")
        # And what came back can be changed as before.
        await ada.client.send({"type": "status.clear"})
        cleared = await bea.client.expect(
            "user.updated", where=lambda m: m["user"]["name"] == "Bea"
        )
        assert cleared["user"]["hand"] is False


# ----------------------------------------------------------------------------- polls --
async def test_an_open_poll_keeps_its_votes(settings: Settings) -> None:
    async with serve_room(settings) as before:
        meeting_id = await before.create()
        ada = await person(before, meeting_id, "Ada", "MODERATOR")  # presenter
        bea = await person(before, meeting_id, "Bea")
        cyd = await person(before, meeting_id, "Cyd")
        await ada.client.send(
            {
                "type": "poll.start",
                "kind": "custom",
                "question": "Best day?",
                "options": ["Mon", "Wed", "Fri"],
            }
        )
        poll = (await cyd.client.expect("poll.started"))["poll"]
        await bea.client.send({"type": "poll.answer", "poll": poll["id"], "choices": [1]})
        await ada.client.expect("poll.results", where=lambda m: m["responders"] == 1)

    async with serve_room(settings) as after:
        # Who has not answered is asked again; who answered is not, and cannot answer twice.
        assert (await cyd.reconnect(after))["poll"] == poll
        assert (await bea.reconnect(after))["poll"] is None
        await bea.client.send(
            {"type": "poll.answer", "poll": poll["id"], "choices": [0], "ref": "again"}
        )
        assert (await bea.client.expect_reply("again"))["code"] == "already_answered"
        # The presenter's live results, votes and who gave them, as they were.
        await ada.reconnect(after)
        results = await ada.client.expect("poll.results")
        assert (results["id"], results["open"], results["responders"]) == (poll["id"], True, 1)
        assert results["responses"] == [{"name": "Bea", "answer": "Wed"}]
        await cyd.client.send({"type": "poll.answer", "poll": poll["id"], "choices": [2]})
        results = await ada.client.expect("poll.results", where=lambda m: m["responders"] == 2)
        assert [c["votes"] for c in results["counts"]] == [0, 1, 1]


async def test_a_stopped_poll_can_still_be_published(settings: Settings) -> None:
    async with serve_room(settings) as before:
        meeting_id = await before.create()
        ada = await person(before, meeting_id, "Ada", "MODERATOR")  # presenter
        bea = await person(before, meeting_id, "Bea")
        cyd = await person(before, meeting_id, "Cyd")
        await ada.client.send({"type": "poll.start", "kind": "YN", "question": "Lunch?"})
        poll = (await bea.client.expect("poll.started"))["poll"]
        await bea.client.send({"type": "poll.answer", "poll": poll["id"], "choices": [0]})
        await ada.client.expect("poll.results", where=lambda m: m["responders"] == 1)
        await ada.client.send({"type": "poll.stop"})
        await cyd.client.expect("poll.ended")

    async with serve_room(settings) as after:
        await ada.reconnect(after)
        assert (await cyd.reconnect(after))["poll"] is None  # stopped: nobody is asked
        await ada.client.send({"type": "poll.publish", "ref": "p"})
        published = await cyd.client.expect("poll.published")
        assert (published["question"], [c["votes"] for c in published["counts"]]) == (
            "Lunch?",
            [1, 0],
        )
        # The presenter had seen the stopped poll's results on reconnecting.
        results = await ada.client.expect("poll.results")
        assert (results["open"], results["responders"]) == (False, 1)
        # Published is over: a presenter arriving now has no live results to see.
        await ada.reconnect(after)
        await ada.client.nothing_of("poll.results")


# ---------------------------------------------------------------------- presenting --
async def test_the_presenters_zoom_comes_back(settings: Settings) -> None:
    zoomed = {"x": 0.25, "y": 0.125, "w": 0.5, "h": 0.5}
    async with serve_room(settings) as before:
        meeting_id = await before.create()
        ada = await person(before, meeting_id, "Ada", "MODERATOR")  # presenter
        bea = await person(before, meeting_id, "Bea")
        await ada.client.send({"type": "presentation.zoom", **zoomed})
        await bea.client.expect("presentation.zoom")
        assert (await bea.reconnect(before))["view"] == zoomed

    async with serve_room(settings) as after:
        welcome = await bea.reconnect(after)
        assert welcome["view"] == zoomed
        assert welcome["current"] is not None


async def test_the_presenter_keeps_the_role_while_reconnecting(settings: Settings) -> None:
    async with serve_room(settings) as before:
        meeting_id = await before.create()
        ada = await person(before, meeting_id, "Ada", "MODERATOR")  # the first: presenter
        bob = await person(before, meeting_id, "Bob", "MODERATOR")
        assert users(await bob.reconnect(before))["Ada"]["presenter"] is True

    async with serve_room(settings) as after:
        # Bob's page is quicker: he is a moderator in a room with nobody seated, yet Ada, who
        # the store still counts as in the meeting, is the presenter.
        assert (await bob.reconnect(after))["you"]["presenter"] is False
        welcome = await ada.reconnect(after)
        assert welcome["you"]["presenter"] is True
        assert [n for n, u in users(welcome).items() if u["presenter"]] == ["Ada"]


# -------------------------------------------------------------------------- together --
def comparable(welcome: dict[str, Any]) -> dict[str, Any]:
    """A welcome with its users in a fixed order (the order people reconnected in varies), and
    without `usersSeq`, which numbers one room's roster changes (each room counts its own)."""
    rest = {k: v for k, v in welcome.items() if k != "usersSeq"}
    return {**rest, "users": sorted(welcome["users"], key=lambda u: u["id"])}


async def test_everything_as_it_was(settings: Settings) -> None:
    """Whoever reconnects to the new room gets the welcome the old room gave them: the chat,
    whiteboard, zoom, open poll, hands, reactions and away, recording, pushed layout, locks, the
    guest policy, the lobby and its message."""
    clock = ManualClock(SystemClock().now_ms())  # the same time in both: timestamps compare
    async with serve_room(settings, clock) as before:
        meeting_id = await before.create(record="true", guestPolicy="ASK_MODERATOR")
        ada = await person(before, meeting_id, "Ada", "MODERATOR")  # presenter
        bea = await person(before, meeting_id, "Bea", guest="false")
        cyd = await person(before, meeting_id, "Cyd", guest="false")
        gil_cookie = await before.session(meeting_id, "Gil", guest="true")
        gil = await RoomClient.open(before, gil_cookie)
        await gil.expect("lobby.waiting")
        current = (await ada.reconnect(before))["current"]
        for message in (
            {"type": "chat.send", "text": "Welcome, all"},
            {"type": "layout.push", "layout": "VIDEO_FOCUS"},
            {"type": "lock.set", "disablePrivateChat": True},
            {"type": "lobby.message", "text": "Back in five"},
            {"type": "recording.set", "recording": True},
            {"type": "whiteboard.multi", "enabled": True},
            {"type": "draw.add", "presentation": current, "page": 1, "shape": shape("s1")},
            {"type": "presentation.zoom", "x": 0.5, "y": 0.5, "w": 0.5, "h": 0.5},
            {"type": "poll.start", "kind": "TF", "question": "Sky is blue?"},
        ):
            await ada.client.send(message)
        await settled(ada)
        poll = (await bea.client.expect("poll.started"))["poll"]
        await bea.client.send({"type": "poll.answer", "poll": poll["id"], "choices": [0]})
        results_were = await ada.client.expect("poll.results", where=lambda m: m["responders"])
        await bea.client.send({"type": "hand.set", "raised": True})
        await cyd.client.send({"type": "away.set", "away": True})
        await cyd.client.send({"type": "reaction.set", "emoji": "🎉"})
        await settled(bea, cyd)

        was: dict[str, dict[str, Any]] = {}
        for who in (ada, bea, cyd):
            was[who.name] = comparable(await who.reconnect(before))
        lobby_was = await (await RoomClient.open(before, gil_cookie)).expect("lobby.waiting")
    # What there is to compare: every piece was in the old room's welcomes.
    ada_was = was["Ada"]
    assert ada_was["meeting"]["pushedLayout"] == "VIDEO_FOCUS" and ada_was["meeting"]["recording"]
    assert ada_was["locks"]["disablePrivateChat"] and ada_was["multiUserWhiteboard"]
    assert [m["text"] for m in ada_was["chat"]] == ["Welcome, all"]
    assert [s["id"] for s in ada_was["annotations"]["1"]] == ["s1"] and ada_was["view"]["w"] == 0.5
    assert [g["name"] for g in ada_was["lobby"]] == ["Gil"] and lobby_was[
        "message"
    ] == "Back in five"
    assert users(ada_was)["Bea"]["hand"] and users(ada_was)["Cyd"]["away"]
    assert users(ada_was)["Cyd"]["reaction"] == "🎉"
    assert (was["Bea"]["poll"], was["Cyd"]["poll"]) == (None, poll)

    async with serve_room(settings, clock) as after:
        # The guest's page and everybody's reconnect; then each opens one more connection, so
        # that everybody is back when the welcomes are compared.
        assert (await (await RoomClient.open(after, gil_cookie)).expect("lobby.waiting")) == (
            lobby_was
        )
        for who in (bea, cyd, ada):
            await who.reconnect(after)
        for who in (ada, bea, cyd):
            assert comparable(await who.reconnect(after)) == was[who.name], who.name
        assert await ada.client.expect("poll.results") == results_were
