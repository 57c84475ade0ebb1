"""Hooks as bbb-webhooks registers them, under sala's default destination policy.

bbb-webhooks stores any callback URL and delivers to it, so integrators point hooks at an LMS on
loopback or on the campus network. sala registers every http(s) URL it could ever send to and
applies the destination policy at each delivery: loopback and private receivers get their
events, a hook aimed at a cloud metadata address is registered and never called, and the
operator's log says why. hooks/create and hooks/list answer bbb-webhooks' elements (tests/api/
bbb_shapes.py), with the Mconf ones the guides require.

These tests use the settings an operator gets by default (no SALA_WEBHOOK_ALLOW). Every
connection is watched: anything but loopback is refused before it is opened.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpcore
import pytest
from sqlalchemy import select

from sala.config import Settings, load_settings
from sala.store import tables
from tests.api.bbb_shapes import paths_for, problems
from tests.conftest import SECRET, Api
from tests.support.receiver import Receiver
from tests.xmlutil import failed, success

METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The shared test settings without their SALA_WEBHOOK_ALLOW: the operator's default."""
    return load_settings(
        secret=SECRET,
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url="https://sala.test",
        media=False,
    )


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address sala's outbound requests connected to; only loopback is really opened."""
    attempts: list[str] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(
        self: httpcore.AnyIOBackend, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        attempts.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            raise httpcore.ConnectError(f"tests connect to loopback only, not {host}")
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return attempts


async def deliver(api: Api, passes: int = 4) -> None:
    for _ in range(passes):
        await api.services.events.run_once()
        await api.services.deliverer.drain()


async def register(api: Api, url: str, **params: str) -> ET.Element:
    return success(await api.get("hooks/create", {"callbackURL": url, **params}))


def hooks_by_url(listed: ET.Element) -> dict[str, ET.Element]:
    return {h.findtext("callbackURL") or "": h for h in listed.iter("hook")}


def event_ids(received: Receiver, path: str) -> list[str]:
    return [json.loads(r.form["event"][0])[0]["data"]["id"] for r in received.accepted(path)]


# ------------------------------------------------------------------------ registration --
async def test_loopback_and_private_receivers_are_registered(api: Api, receiver: Receiver) -> None:
    urls = [
        f"http://127.0.0.1:{receiver.port}/",
        "http://10.0.0.5/",
        f"http://[::1]:{receiver.port}/v6",
        f"http://localhost:{receiver.port}/named",
        "https://192.168.10.20:8443/moodle/hooks?key=x",
    ]
    for url in urls:
        created = await register(api, url)
        assert created.findtext("hookID")
        assert created.findtext("messageKey") is None
    assert set(hooks_by_url(success(await api.get("hooks/list")))) == set(urls)


async def test_a_loopback_receiver_gets_everything_under_the_default_policy(
    api: Api, receiver: Receiver, connections: list[str]
) -> None:
    token = (await register(api, receiver.url("/hook"))).findtext("authToken")
    meeting_id, _ = await api.create(
        **{
            "meta_endCallbackUrl": receiver.url("/ended"),
            "meta_analytics-callback-url": receiver.url("/analytics"),
        }
    )
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)

    assert event_ids(receiver, "/hook") == ["meeting-created", "meeting-ended"]
    assert {r.headers["authorization"] for r in receiver.accepted("/hook")} == {f"Bearer {token}"}
    [ended] = receiver.accepted("/ended")
    assert ended.query["meetingID"] == [meeting_id]
    [analytics] = receiver.accepted("/analytics")
    assert analytics.headers["content-type"] == "application/json"
    assert set(connections) == {"127.0.0.1"}


async def test_documents_are_fetched_from_loopback_under_the_default_policy(
    api: Api, receiver: Receiver, connections: list[str]
) -> None:
    meeting_id, _ = await api.create()
    query = api.query("insertDocument", {"meetingID": meeting_id})
    body = (
        '<modules><module name="presentation">'
        f'<document url="{receiver.url("/deck.pdf")}" filename="deck.pdf"/></module></modules>'
    )
    success(
        await api.client.post(
            f"/bigbluebutton/api/insertDocument?{query}",
            content=body,
            headers={"Content-Type": "application/xml"},
        )
    )
    await api.services.presentations.wait_idle()
    assert len(receiver.accepted("/deck.pdf")) == 1
    assert connections == ["127.0.0.1"]


async def test_a_hook_at_the_metadata_address_is_registered_but_never_called(
    api: Api, connections: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sala.events.delivery")
    created = await register(api, METADATA)
    hook_id = created.findtext("hookID")
    [listed] = success(await api.get("hooks/list")).iter("hook")
    assert (listed.findtext("hookID"), listed.findtext("enabled")) == (hook_id, "true")

    await api.create()
    await deliver(api)

    assert connections == []  # refused before any connection was attempted
    d = tables.deliveries
    async with api.services.outbox.read() as conn:
        rows = (await conn.execute(select(d.c.status, d.c.last_error))).all()
    assert rows and all(status == "pending" for status, _ in rows)
    assert all((error or "").startswith("destination refused") for _, error in rows)
    # The operator reads why in the log: the address, and the setting that decides.
    logged = [r.getMessage() for r in caplog.records if "169.254.169.254" in r.getMessage()]
    assert logged and all("SALA_WEBHOOK_DENY" in message for message in logged)


# ------------------------------------------------------------------ bbb-webhooks' answers --
async def test_hooks_list_answers_bbb_webhooks_elements_with_mconf_ones(api: Api) -> None:
    meeting_id, _ = await api.create()
    global_hook = await register(api, "http://127.0.0.1:9/global")
    await register(
        api,
        "http://127.0.0.1:9/bound",
        meetingID=meeting_id,
        eventID="Meeting-Created,USER-JOINED",
        getRaw="true",
    )
    for listing in (
        await api.get("hooks/list"),
        await api.get("hooks/list", {"meetingID": meeting_id}),
    ):
        found = problems(
            "hooks/list",
            paths_for("hooks/list", listing.content),
            "hooks",
            "meeting_bound",
            "event_filter",
        )
        assert found == [], listing.text
    hooks = hooks_by_url(success(await api.get("hooks/list")))
    bound, unbound = hooks["http://127.0.0.1:9/bound"], hooks["http://127.0.0.1:9/global"]
    assert bound.findtext("meetingID") == meeting_id
    assert bound.findtext("eventID") == "meeting-created,user-joined"
    assert (bound.findtext("permanentHook"), bound.findtext("rawData")) == ("false", "true")
    assert unbound.find("meetingID") is None and unbound.find("eventID") is None
    assert (unbound.findtext("permanentHook"), unbound.findtext("rawData")) == ("false", "false")
    # Mconf's: the token to verify deliveries and the creating secret's GUID, as hooks/create said.
    assert unbound.findtext("authToken") == global_hook.findtext("authToken")
    assert unbound.findtext("sharedSecretGUID") == global_hook.findtext("sharedSecretGUID")
    assert unbound.findtext("hookGUID") == global_hook.findtext("hookGUID")

    elsewhere = success(await api.get("hooks/list", {"meetingID": "another-room"}))
    assert list(hooks_by_url(elsewhere)) == ["http://127.0.0.1:9/global"]


async def test_an_empty_event_filter_is_listed_and_receives_every_event(
    api: Api, receiver: Receiver
) -> None:
    # The PHP client library (3.0) sends `eventID=` whenever no events are chosen.
    await register(api, receiver.url("/all"), eventID="")
    listing = await api.get("hooks/list")
    assert (
        problems("hooks/list", paths_for("hooks/list", listing.content), "hooks", "event_filter")
        == []
    )
    [hook] = success(listing).iter("hook")
    assert hook.find("eventID") is not None and hook.findtext("eventID") == ""

    meeting_id, _ = await api.create()
    success(await api.get("end", {"meetingID": meeting_id}))
    await deliver(api)
    assert event_ids(receiver, "/all") == ["meeting-created", "meeting-ended"]


@pytest.mark.parametrize(
    ("value", "raw"),
    [("true", "true"), ("TRUE", "true"), ("1", "true"), ("false", "false"), ("0", "false"),
     ("null", "false"), ("", "false")],
)  # fmt: skip
async def test_get_raw_is_read_as_bbb_webhooks_reads_it(api: Api, value: str, raw: str) -> None:
    created = await register(api, "http://127.0.0.1:9/raw", getRaw=value)
    assert created.findtext("rawData") == raw
    [listed] = success(await api.get("hooks/list")).iter("hook")
    assert listed.findtext("rawData") == raw


async def test_get_raw_that_is_not_json_is_a_clear_error(api: Api) -> None:
    # bbb-webhooks' JSON.parse throws outside its try block and the request is never answered.
    answer = failed(
        await api.get("hooks/create", {"callbackURL": "http://127.0.0.1:9/x", "getRaw": "yes"}),
        "createHookError",
    )
    assert "getRaw" in (answer.findtext("message") or "")
    assert list(success(await api.get("hooks/list")).iter("hook")) == []


async def test_a_duplicate_is_bbb_webhooks_warning_with_the_existing_token(api: Api) -> None:
    url = "http://127.0.0.1:9/again"
    first = await register(api, url, meetingID="room-a", eventID="meeting-ended")
    response = await api.get(
        "hooks/create", {"callbackURL": url, "meetingID": "room-b", "getRaw": "true"}
    )
    assert (
        problems("hooks/create.duplicate", paths_for("hooks/create.duplicate", response.content))
        == []
    )
    again = success(response)
    assert again.findtext("messageKey") == "duplicateWarning"
    assert again.findtext("message") == "There is already a hook for this callback URL."
    for name in ("hookID", "hookGUID", "authToken"):
        assert again.findtext(name) == first.findtext(name)
    # Nothing was updated by the duplicate.
    [hook] = success(await api.get("hooks/list")).iter("hook")
    assert (hook.findtext("meetingID"), hook.findtext("eventID")) == ("room-a", "meeting-ended")
    assert hook.findtext("rawData") == "false"
