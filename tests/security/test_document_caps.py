"""Documents are capped per request and per meeting, before anything is created or queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Api
from tests.xmlutil import failed, field, success


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


def modules(count: int) -> str:
    # .invalid never resolves: the background fetches fail at once, without any network.
    documents = "".join(
        f"<document url='https://docs.invalid/{i}.pdf' filename='{i}.pdf'/>" for i in range(count)
    )
    return f"<modules><module name='presentation'>{documents}</module></modules>"


async def insert(api: Api, meeting_id: str, count: int) -> str:
    query = api.query("insertDocument", {"meetingID": meeting_id})
    response = await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=modules(count),
        headers={"content-type": "application/xml"},
    )
    return response.text


async def documents_of(api: Api, meeting_id: str) -> int:
    root = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    internal = field(root, "internalMeetingID")
    return len(await api.services.presentations.of_meeting(internal))


@pytest.mark.parametrize("count", [51, 20_000])
async def test_insert_document_refuses_too_many_in_one_request(api: Api, count: int) -> None:
    meeting_id, created = await api.create()
    success(created)
    answer = await insert(api, meeting_id, count)
    assert "<messageKey>sizeError</messageKey>" in answer
    assert "at most 50 documents" in answer
    assert await documents_of(api, meeting_id) == 0


async def test_a_meeting_holds_at_most_its_limit(api: Api) -> None:
    meeting_id, created = await api.create()
    success(created)
    assert "SUCCESS" in await insert(api, meeting_id, 50)
    assert "SUCCESS" in await insert(api, meeting_id, 50)
    answer = await insert(api, meeting_id, 1)
    assert "<messageKey>sizeError</messageKey>" in answer
    assert await documents_of(api, meeting_id) == 100
    await api.services.presentations.wait_idle()


async def test_create_refuses_too_many_documents_before_creating(api: Api) -> None:
    query = api.query("create", {"name": "Room", "meetingID": "many-docs"})
    response = await api.client.post(
        f"/bigbluebutton/api/create?{query}",
        content=modules(51),
        headers={"content-type": "application/xml"},
    )
    failed(response, "sizeError")
    failed(await api.get("getMeetingInfo", {"meetingID": "many-docs"}), "notFound")
