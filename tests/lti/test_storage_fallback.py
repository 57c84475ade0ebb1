"""The postMessage storage fallback, server side: when the platform offers its storage
(`lti_storage_target`), the login also hands the state to a page that stores it there, and a
launch whose state cookie did not come back answers a page that reads it back instead of a
refusal. Only sala's own page can then confirm the launch (JSON from sala's origin); nothing is
spent until it does. tests/lti/test_storage_browser.py runs the scripts in Chromium."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy import func, select

from sala.store import tables
from tests.lti.conftest import LtiBed
from tests.support.lms.core import LEARNER, Browser, Visit


def _data(page: httpx.Response) -> dict[str, str]:
    match = re.search(r'<div id="lti-storage"([^>]*)>', page.text)
    assert match, page.text
    return {k: unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1))}


async def _sessions(lti: LtiBed) -> int:
    async with lti.sala.services.db.read() as conn:
        t = tables.lti_sessions
        return int((await conn.execute(select(func.count()).select_from(t))).scalar_one())


async def _up_to_the_launch(lti: LtiBed, browser: Browser) -> tuple[dict[str, str], Visit]:
    """Login (the storage page's data) and the launch's answer, in `browser`."""
    prepared = lti.sim.prepare(LEARNER, storage_target="_parent")
    login = await browser.http.get(
        lti.sala.base + "/lti/login", params=lti.sim.login_params(prepared)
    )
    assert login.status_code == 200, login.text
    put = _data(login)
    # What the page's script does after storing the state: go to the platform.
    return put, await browser.go(put["authorize"])


async def test_the_login_hands_the_state_to_the_storage_page_and_the_cookie_still_works(
    lti: LtiBed,
) -> None:
    put, launched = await _up_to_the_launch(lti, lti.browser())

    assert put["step"] == "put"
    assert put["target"] == "_parent"
    assert put["origin"] == lti.sim.base  # the platform's authorization URL's origin
    assert put["key"] == "state_" + put["state"]
    assert put["authorize"].startswith(lti.sim.auth_url + "?")
    # The cookie came back: no detour through the storage.
    assert launched.redirect_to("/lti/rooms/") is not None, launched.final.text


async def test_without_the_cookie_the_launch_asks_the_platforms_storage_and_spends_nothing(
    lti: LtiBed,
) -> None:
    put, visit = await _up_to_the_launch(lti, lti.browser(accept_cookies=False))
    launched = visit.final

    assert launched.status_code == 200, launched.text
    get = _data(launched)
    assert get["step"] == "get"
    assert (get["state"], get["key"], get["target"], get["origin"]) == (
        put["state"],
        put["key"],
        "_parent",
        lti.sim.base,
    )
    assert get["token"] == lti.sim.issued[-1].id_token
    assert "lti-storage-failed" in launched.text  # the refusal the script shows if it must
    assert "/room/static/app/lti-storage.js" in launched.text
    assert await _sessions(lti) == 0


async def test_sala_s_own_page_confirms_the_launch_once(lti: LtiBed) -> None:
    _, visit = await _up_to_the_launch(lti, lti.browser(accept_cookies=False))
    get = _data(visit.final)
    confirm = {"id_token": get["token"], "state": get["state"]}

    answer = await lti.sala.http.post(
        lti.sala.base + "/lti/launch/storage", json=confirm, headers={"Origin": lti.sala.base}
    )

    assert answer.status_code == 200, answer.text
    location = answer.json()["location"]
    assert location.startswith(lti.sala.base + "/lti/rooms/")
    session = await lti.sessions.get(location.rsplit("/", 1)[1])
    assert session is not None and not session.launch.moderator
    again = await lti.sala.http.post(
        lti.sala.base + "/lti/launch/storage", json=confirm, headers={"Origin": lti.sala.base}
    )
    assert again.status_code == 401
    assert again.json()["error"] == "replayed"
    assert "already used" in again.json()["problem"]


async def test_a_confirmation_from_another_site_is_forbidden(lti: LtiBed) -> None:
    _, visit = await _up_to_the_launch(lti, lti.browser(accept_cookies=False))
    get = _data(visit.final)
    url = lti.sala.base + "/lti/launch/storage"
    body = {"id_token": get["token"], "state": get["state"]}

    foreign = await lti.sala.http.post(url, json=body, headers={"Origin": lti.sim.base})
    no_origin = await lti.sala.http.post(url, json=body)
    # A cross-site form can post text/plain that looks like JSON; that is not a confirmation.
    as_text = await lti.sala.http.post(
        url,
        content=httpx.Request("POST", url, json=body).content,
        headers={"Origin": lti.sala.base, "Content-Type": "text/plain"},
    )

    assert [r.status_code for r in (foreign, no_origin, as_text)] == [403, 403, 403]
    assert await _sessions(lti) == 0


async def test_a_login_without_storage_cannot_be_confirmed_through_it(lti: LtiBed) -> None:
    prepared = lti.sim.prepare(LEARNER)
    browser = lti.browser(accept_cookies=False)
    launched = await browser.go(lti.sim.start_url(prepared))
    assert launched.final.headers["x-lti-refusal"] == "cookie_missing"
    issued = lti.sim.issued[-1]

    answer = await lti.sala.http.post(
        lti.sala.base + "/lti/launch/storage",
        json={"id_token": issued.id_token, "state": issued.state},
        headers={"Origin": lti.sala.base},
    )

    assert answer.status_code == 401
    assert answer.json()["error"] == "cookie_missing"
    assert await _sessions(lti) == 0
