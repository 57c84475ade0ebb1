"""The checksum covers every parameter a call acts on: parameters in a POST body are used only
when the checksum was computed over them, never when it only signs an empty query string."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sala import checksums as checksum
from tests.conftest import Api
from tests.xmlutil import failed, field, success, xml


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


def bare_checksum(api: Api, call: str) -> str:
    """sha1(call + secret): the checksum of a request with no parameters at all."""
    return hashlib.sha1(f"{call}{api.secret}".encode()).hexdigest()


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_create_body_parameters_do_not_ride_on_a_bare_checksum(api: Api) -> None:
    body = urlencode({"name": "Hijack", "meetingID": "hijack", "moderatorPW": "mine"})
    response = await api.client.post(
        f"/bigbluebutton/api/create?checksum={bare_checksum(api, 'create')}",
        content=body,
        headers=FORM,
    )
    failed(response, "nullError")  # no name: nothing in the body counted
    failed(await api.get("getMeetingInfo", {"meetingID": "hijack"}), "notFound")


async def test_bare_checksum_in_the_body_does_not_sign_the_body(api: Api) -> None:
    body = urlencode(
        {"name": "Hijack", "meetingID": "hijack", "checksum": bare_checksum(api, "create")}
    )
    response = await api.client.post("/bigbluebutton/api/create", content=body, headers=FORM)
    assert field(xml(response), "returncode") == "FAILED"
    failed(await api.get("getMeetingInfo", {"meetingID": "hijack"}), "notFound")


@pytest.mark.parametrize("call", ["getMeetingInfo", "getRecordings", "hooks/list", "end"])
async def test_reading_calls_ignore_unsigned_body_parameters(api: Api, call: str) -> None:
    meeting_id, created = await api.create("private-room")
    success(created)
    body = urlencode({"meetingID": meeting_id, "meetingIDs": meeting_id})
    response = await api.client.post(
        f"/bigbluebutton/api/{call}?checksum={bare_checksum(api, call)}",
        content=body,
        headers=FORM,
    )
    # Whatever the call answers without parameters, it is not about the named meeting.
    assert meeting_id not in response.text
    assert "private-room" not in response.text
    # The meeting was not ended by an unsigned parameter.
    root = success(await api.get("getMeetingInfo", {"meetingID": meeting_id}))
    assert field(root, "hasBeenForciblyEnded") == "false"


async def test_query_signed_request_ignores_extra_body_parameters(api: Api) -> None:
    query = api.query("create", {"name": "Room", "meetingID": "signed"})
    response = await api.client.post(
        f"/bigbluebutton/api/create?{query}",
        content=urlencode({"moderatorPW": "injected", "welcome": "<script>"}),
        headers=FORM,
    )
    root = success(response)
    assert field(root, "moderatorPW") != "injected"


async def test_body_signed_as_sent_is_accepted(api: Api) -> None:
    params = urlencode({"name": "Body Room", "meetingID": "body-signed"})
    digest = hashlib.sha1(f"create{params}{api.secret}".encode()).hexdigest()
    response = await api.client.post(
        "/bigbluebutton/api/create", content=f"{params}&checksum={digest}", headers=FORM
    )
    assert field(success(response), "meetingID") == "body-signed"


async def test_body_signed_canonically_with_checksum_in_the_query_is_accepted(api: Api) -> None:
    params = {"name": "Canonical Room", "meetingID": "canonical"}
    canonical = checksum.canonical_form_string({k: [v] for k, v in params.items()})
    digest = hashlib.sha1(f"create{canonical}{api.secret}".encode()).hexdigest()
    response = await api.client.post(
        f"/bigbluebutton/api/create?checksum={digest}", content=urlencode(params), headers=FORM
    )
    assert field(success(response), "meetingID") == "canonical"


async def test_multipart_body_parameters_need_their_own_checksum(api: Api) -> None:
    fields = {"name": "Hijack", "meetingID": "hijack-multipart"}
    response = await api.client.post(
        f"/bigbluebutton/api/create?checksum={bare_checksum(api, 'create')}",
        data=fields,
        files={"unused": ("a.txt", b"x", "text/plain")},
    )
    failed(response, "nullError")  # no name: nothing in the body counted
    canonical = checksum.canonical_form_string({k: [v] for k, v in fields.items()})
    digest = hashlib.sha1(f"create{canonical}{api.secret}".encode()).hexdigest()
    response = await api.client.post(
        f"/bigbluebutton/api/create?checksum={digest}",
        data=fields,
        files={"unused": ("a.txt", b"x", "text/plain")},
    )
    assert field(success(response), "meetingID") == "hijack-multipart"
