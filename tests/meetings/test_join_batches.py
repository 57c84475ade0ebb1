"""Joins and hand-offs that arrive together are written in one transaction (meetings/batches.py),
and each caller still gets its own answer: its own attendee and link, or its own refusal, as if
it had been written alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from sala.events import types
from sala.events.log import read_all_events
from sala.meetings import errors
from sala.meetings.model import Role
from sala.meetings.service import CreateSpec, JoinSpec
from sala.meetings.specs import JoinResult
from sala.services import Services


def _counting(batches: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch `batches` writes."""
    sizes: list[int] = []
    write = batches._write

    async def counted(key: str, items: list[Any]) -> Sequence[Any]:
        sizes.append(len(items))
        return await write(key, items)

    monkeypatch.setattr(batches, "_write", counted)
    return sizes


async def _answers(calls: list[Any]) -> list[Any]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def test_joins_arriving_together_each_get_their_own_answer(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    meetings = services.meetings
    created = await meetings.create(
        CreateSpec(
            external_id=f"m-{uuid.uuid4()}",
            name="R",
            attendee_pw="ap",
            moderator_pw="mp",
            settings={"guestPolicy": "ALWAYS_DENY"},
        )
    )
    room = created.meeting.external_id
    sizes = _counting(meetings._joins, monkeypatch)
    # Not guests (guest=false): only a guest is turned away by ALWAYS_DENY.
    specs = [JoinSpec(full_name=f"P{i}", password="ap", guest=False) for i in range(24)]
    specs[5] = JoinSpec(full_name="Wrong", password="nope")
    specs[9] = JoinSpec(full_name="Guest", password="ap", guest=True)
    specs[13] = JoinSpec(full_name="Late", password="ap", create_time="1")
    specs[17] = JoinSpec(full_name="Mod", password="mp")
    answers = await _answers([meetings.join(room, spec) for spec in specs])

    assert sum(sizes) == 24 and len(sizes) < 24, sizes
    assert isinstance(answers[5], errors.InvalidPassword)
    assert isinstance(answers[9], errors.GuestDenied)
    assert isinstance(answers[13], errors.CreateTimeMismatch)
    joined = {i: a for i, a in enumerate(answers) if isinstance(a, JoinResult)}
    assert sorted(joined) == [i for i in range(24) if i not in (5, 9, 13)]
    assert joined[17].attendee.role is Role.MODERATOR
    assert {a.attendee.full_name for i, a in joined.items() if i != 17} == {
        f"P{i}" for i in joined if i != 17
    }
    assert len({a.attendee.internal_user_id for a in joined.values()}) == 21
    assert len({a.session_token for a in joined.values()}) == 21

    # Every accepted join is stored, with its registration event, in the order they came;
    # the refused ones left nothing.
    async with services.db.read() as conn:
        events = await read_all_events(conn, created.meeting.internal_id)
    registered = [e.user_id for e in events if e.type == types.USER_REGISTERED]
    assert registered == [joined[i].attendee.internal_user_id for i in sorted(joined)]
    for result in joined.values():
        stored = await meetings.get_attendee(result.attendee.internal_user_id)
        assert stored is not None and stored.full_name == result.attendee.full_name
    # Each link opens its own room session.
    sessions = await _answers(
        [services.sessions.open_room_session(a.session_token) for a in joined.values()]
    )
    assert [s.attendee.internal_user_id for s in sessions] == [
        a.attendee.internal_user_id for a in joined.values()
    ]


async def test_joins_of_an_unknown_meeting_together_are_each_refused(
    services: Services,
) -> None:
    answers = await _answers(
        [services.meetings.join("nowhere", JoinSpec(full_name="X", role=Role.VIEWER))] * 6
    )
    assert all(isinstance(a, errors.InvalidMeetingIdentifier) for a in answers), answers


async def test_a_full_meeting_refuses_every_join_of_a_batch_but_a_returning_user(
    services: Services,
) -> None:
    meetings = services.meetings
    created = await meetings.create(
        CreateSpec(external_id=f"m-{uuid.uuid4()}", name="R", max_participants=2)
    )
    room = created.meeting.external_id
    seated = [
        await meetings.join(room, JoinSpec(full_name=n, role=Role.VIEWER, external_user_id=n))
        for n in ("ada", "bea")
    ]
    for s in seated:
        await meetings.user_connected(created.meeting.internal_id, s.attendee.internal_user_id)
    answers = await _answers(
        [
            meetings.join(room, JoinSpec(full_name="C", role=Role.VIEWER)),
            meetings.join(room, JoinSpec(full_name="A", role=Role.VIEWER, external_user_id="ada")),
            meetings.join(room, JoinSpec(full_name="D", role=Role.VIEWER)),
        ]
    )
    assert isinstance(answers[0], errors.MaxParticipantsReached)
    assert isinstance(answers[1], JoinResult)
    assert isinstance(answers[2], errors.MaxParticipantsReached)


async def test_hand_offs_arriving_together_each_open_one_session(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    meetings = services.meetings
    created = await meetings.create(CreateSpec(external_id=f"m-{uuid.uuid4()}", name="R"))
    links = [
        (
            await meetings.join(
                created.meeting.internal_id, JoinSpec(full_name=f"P{i}", role=Role.VIEWER)
            )
        )
        for i in range(12)
    ]
    sizes = _counting(services.sessions._spends, monkeypatch)
    tokens = [link.session_token for link in links]
    # A link followed twice at once, and one nobody issued, among them.
    asked = [*tokens, tokens[3], "not-a-link"]
    answers = await _answers([services.sessions.spend(t) for t in asked])

    assert sum(sizes) == 14 and len(sizes) < 14, sizes
    opened = [a for a in answers if isinstance(a, str)]
    assert len(opened) == 12 and len(set(opened)) == 12
    assert isinstance(answers[13], errors.InvalidSession)
    for link, session_token in zip(links, answers[:12], strict=True):
        session = await services.sessions.room_session(session_token)
        assert session.attendee.internal_user_id == link.attendee.internal_user_id
    # Spent: the same links open nothing now.
    again = await _answers([services.sessions.spend(t) for t in tokens[:3]])
    assert all(isinstance(a, errors.InvalidSession) for a in again)
