"""Unauthenticated garbage gets a BBB-shaped error and at most one log line: too many
parameters, malformed multipart bodies, and calls that keep failing the same way."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.xmlutil import failed, success


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sala.db'}"


MAX_PARAMETERS = 10_000
"""Tomcat's default maxParameterCount, under which bbb-web reads requests."""


def _tracebacks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.exc_info)


async def test_too_many_query_parameters(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    query = "&".join("p" for _ in range(MAX_PARAMETERS + 1))
    for _ in range(20):
        failed(await api.client.get(f"/bigbluebutton/api/create?{query}"), "sizeError")
    assert _tracebacks(caplog) == 0
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 20


async def test_bbb_sized_parameter_lists_still_work(api: Api) -> None:
    """Tomcat reads up to 10,000 parameters, so bbb-web does; sala must not refuse fewer."""
    meta = [(f"meta_k{i}", "v") for i in range(5000)]
    _, response = await api.create(**dict(meta))
    success(response)


async def test_too_many_form_fields(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    body = "&".join(f"p{i}=x" for i in range(MAX_PARAMETERS + 1))
    for _ in range(20):
        response = await api.client.post(
            "/bigbluebutton/api/create",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        failed(response, "sizeError")
    fields = {f"p{i}": "x" for i in range(MAX_PARAMETERS + 1)}
    response = await api.client.post(
        "/bigbluebutton/api/create", data=fields, files={"f": ("a", b"x", "text/plain")}
    )
    failed(response, "sizeError")
    assert _tracebacks(caplog) == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n"),
        ("multipart/form-data; boundary=zz", b"garbage without any boundary"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nContent-Disposition: nonsense\r\n\r\nx"),
        ("multipart/form-data; boundary=zz", b"--zz\r\n" + b"H: " + b"v" * 100_000),
    ],
)
async def test_malformed_multipart(
    api: Api, caplog: pytest.LogCaptureFixture, content_type: str, body: bytes
) -> None:
    for _ in range(10):
        response = await api.client.post(
            "/bigbluebutton/api/create", content=body, headers={"content-type": content_type}
        )
        root = failed(response, response.text.split("<messageKey>")[1].split("<")[0])
        assert root.findtext("messageKey") in ("validationError", "checksumError")
    assert _tracebacks(caplog) == 0


async def test_repeated_internal_errors_log_one_traceback(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(api.services.meetings, "get_live", broken)
    for _ in range(50):
        failed(await api.get("getMeetingInfo", {"meetingID": "x"}), "internalError")
    errors = [r for r in caplog.records if r.name == "sala.api.endpoint"]
    assert len(errors) == 50
    assert _tracebacks(caplog) == 1
    assert all("\n" not in r.getMessage() for r in errors)
