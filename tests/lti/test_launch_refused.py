"""Launches sala must refuse: each with a page that names the problem and the fix, and nothing
created (no landing session; the login's state and the token's nonce left unspent, so a
refused launch cannot be used to burn someone's login or make a later one look replayed)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sala.app import build_app
from sala.clock import ManualClock
from sala.config import Settings
from sala.store import tables
from tests.lti.conftest import LtiBed
from tests.support.lms.core import INSTRUCTOR, LEARNER, LTI, Browser, SigningKey


async def _count(lti: LtiBed, table: str) -> int:
    t = getattr(tables, table)
    async with lti.sala.services.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(t))).scalar_one())


def _refused(response: httpx.Response, code: str, status: int, *phrases: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers.get("x-lti-refusal") == code, response.text
    assert "text/html" in response.headers["content-type"]
    assert "lti-problem" in response.text and "lti-fix" in response.text
    for phrase in phrases:
        assert phrase in response.text, (phrase, response.text)


async def _nothing_created(lti: LtiBed, *, logins_left: int = 1) -> None:
    assert await _count(lti, "lti_sessions") == 0
    assert await _count(lti, "lti_nonces") == 0
    # The login the refused launch belonged to is still there (not spent).
    assert await _count(lti, "lti_states") == logins_left


async def test_a_token_signed_with_another_key_is_refused(lti: LtiBed) -> None:
    # The right kid, the wrong key: as if someone forged a token in the platform's name.
    launched = await lti.launch(INSTRUCTOR, sign_with=SigningKey.new(), kid=lti.sim.key.kid)

    assert launched.location is None
    _refused(launched.visit.final, "bad_signature", 401, "signature", "JWKS URL registered in sala")
    await _nothing_created(lti)


async def test_a_token_signed_with_a_key_the_platform_does_not_publish_is_refused(
    lti: LtiBed,
) -> None:
    stranger = SigningKey.new()
    launched = await lti.launch(INSTRUCTOR, sign_with=stranger)

    _refused(launched.visit.final, "unknown_key", 401, stranger.kid, "JWKS URL")
    await _nothing_created(lti)


async def test_a_token_for_another_audience_is_refused(lti: LtiBed) -> None:
    launched = await lti.launch(LEARNER, claims={"aud": "another-tool"})

    _refused(
        launched.visit.final,
        "wrong_audience",
        401,
        "another-tool",
        lti.sim.client_id,
        "client ID sala was registered with",
    )
    await _nothing_created(lti)


async def test_several_audiences_need_sala_as_the_authorised_party(lti: LtiBed) -> None:
    launched = await lti.launch(
        LEARNER, claims={"aud": [lti.sim.client_id, "another-tool"], "azp": "another-tool"}
    )

    _refused(launched.visit.final, "wrong_audience", 401, "azp another-tool")
    await _nothing_created(lti)


async def test_an_expired_token_is_refused(lti: LtiBed) -> None:
    launched = await lti.launch(LEARNER, expired=True)

    _refused(launched.visit.final, "expired", 401, "expired", "seconds ago", "NTP")
    await _nothing_created(lti)


async def test_a_token_from_the_future_is_refused_beyond_the_allowed_skew(
    lti: LtiBed, clock: ManualClock
) -> None:
    clock.advance(seconds=-(lti.settings.lti_clock_skew_seconds + 30))
    launched = await lti.launch(LEARNER)

    _refused(launched.visit.final, "not_yet_valid", 401, "in the future", "clocks")
    await _nothing_created(lti)


async def test_a_token_within_the_allowed_skew_is_accepted(lti: LtiBed, clock: ManualClock) -> None:
    clock.advance(seconds=lti.settings.lti_clock_skew_seconds + 300 - 20)  # exp is iat + 300
    launched = await lti.launch(LEARNER)

    assert launched.session is not None, launched.visit.final.text


async def test_the_same_id_token_posted_twice_is_refused_as_a_replay(lti: LtiBed) -> None:
    browser = lti.browser()
    first = await lti.launch(LEARNER, browser=browser)
    assert first.session is not None
    issued = lti.sim.issued[-1]

    again = await browser.post(
        issued.redirect_uri, {"id_token": issued.id_token, "state": issued.state}
    )

    _refused(again.final, "replayed", 401, "already used", "Do not reload")
    assert await _count(lti, "lti_sessions") == 1
    assert await _count(lti, "lti_nonces") == 1


async def test_a_launch_from_an_unregistered_deployment_is_refused(lti: LtiBed) -> None:
    # Said at login initiation: refused before the platform is even asked.
    at_login = await lti.launch(LEARNER, deployment_id="deployment-unknown")
    _refused(at_login.visit.final, "unknown_deployment", 403, "deployment-unknown", "--deployment")
    assert await _count(lti, "lti_states") == 0

    # Only in the signed token: refused at the launch.
    in_token = await lti.launch(LEARNER, claims={LTI + "deployment_id": "deployment-other"})
    _refused(in_token.visit.final, "unknown_deployment", 403, "deployment-other")
    await _nothing_created(lti)


async def test_an_unknown_issuer_or_client_is_refused(lti: LtiBed) -> None:
    unknown_client = await lti.launch(LEARNER, client_id="client-nobody-registered")
    _refused(
        unknown_client.visit.final,
        "unknown_platform",
        400,
        lti.sim.issuer,
        "client-nobody-registered",
        "sala lti add-platform",
    )

    # A token whose issuer is not the platform that started the login.
    unknown_issuer = await lti.launch(LEARNER, claims={"iss": "https://elsewhere.test"})
    _refused(unknown_issuer.visit.final, "unknown_platform", 400, "https://elsewhere.test")
    await _nothing_created(lti)


async def _login_up_to_the_launch(lti: LtiBed, browser: Browser) -> dict[str, str]:
    """Login initiation and authorization in `browser`, stopping before the launch: the
    fields the platform's form would post to sala (id_token, state)."""
    prepared = lti.sim.prepare(LEARNER)
    login = await browser.http.get(
        lti.sala.base + "/lti/login", params=lti.sim.login_params(prepared)
    )
    authorized = await browser.http.get(login.headers["location"])
    form = Browser._auto_form(authorized)
    assert form is not None, authorized.text
    return form[2]


async def test_a_token_from_another_browsers_login_is_refused(lti: LtiBed) -> None:
    # Login CSRF: someone completes a login of their own and makes the victim's browser post
    # the result. The victim's browser has a login of its own in flight.
    attacker, victim = lti.browser(), lti.browser()
    theirs = await _login_up_to_the_launch(lti, attacker)
    mine = await _login_up_to_the_launch(lti, victim)

    as_is = await victim.post(lti.sala.base + "/lti/launch", theirs)
    _refused(as_is.final, "cookie_missing", 401)

    mixed = await victim.post(
        lti.sala.base + "/lti/launch", {"id_token": theirs["id_token"], "state": mine["state"]}
    )
    _refused(mixed.final, "state_mismatch", 401, "nonce", "in this browser")
    await _nothing_created(lti, logins_left=2)


async def test_an_unknown_state_is_refused(lti: LtiBed) -> None:
    fresh = lti.sim.prepare(LEARNER)
    token = lti.sim.key.sign(lti.sim.claims_for(fresh, "some-nonce"))

    visit = await lti.browser().post(
        lti.sala.base + "/lti/launch", {"id_token": token, "state": "not-a-state-sala-issued"}
    )

    _refused(visit.final, "state_unknown", 400, "open the activity again")
    await _nothing_created(lti, logins_left=0)


async def test_a_browser_that_did_not_send_the_state_cookie_is_refused(lti: LtiBed) -> None:
    launched = await lti.launch(LEARNER, browser=lti.browser(accept_cookies=False))

    _refused(launched.visit.final, "cookie_missing", 401, "third-party cookies", "new window")
    await _nothing_created(lti)


async def test_a_launch_without_id_token_or_state_is_refused(lti: LtiBed) -> None:
    visit = await lti.browser().post(lti.sala.base + "/lti/launch", {"state": "x"})

    _refused(visit.final, "missing_token", 400, "id_token", "redirect URL")


@pytest.mark.parametrize(
    ("claims", "code", "phrase"),
    [
        ({LTI + "version": "1.1.0"}, "wrong_version", "LTI version 1.1.0"),
        (
            {LTI + "message_type": "LtiSubmissionReviewRequest"},
            "wrong_message_type",
            "LtiSubmissionReviewRequest",
        ),
        ({LTI + "resource_link": None}, "missing_claim", "resource_link.id"),
        ({LTI + "roles": None}, "missing_claim", "roles"),
    ],
)
async def test_a_launch_that_is_not_lti_1_3_resource_link_or_deep_linking_is_refused(
    lti: LtiBed, claims: dict[str, object], code: str, phrase: str
) -> None:
    launched = await lti.launch(LEARNER, claims=claims)

    _refused(launched.visit.final, code, 400, phrase)
    await _nothing_created(lti)


async def test_a_login_missing_its_parameters_or_aimed_elsewhere_is_refused(lti: LtiBed) -> None:
    browser = lti.browser()
    missing = await browser.go(lti.sala.base + "/lti/login?iss=" + lti.sim.issuer)
    _refused(missing.final, "missing_parameters", 400, "login_hint, target_link_uri")

    elsewhere = await lti.launch(LEARNER, target_link_uri="https://evil.test/lti")
    _refused(elsewhere.visit.final, "bad_target", 400, "https://evil.test/lti", "/lti/launch")
    assert await _count(lti, "lti_states") == 0


async def test_error_pages_speak_the_launchs_language(lti: LtiBed) -> None:
    launched = await lti.launch(LEARNER, locale="pt-BR", expired=True)

    _refused(launched.visit.final, "expired", 401, "O id_token expirou", "lang='pt-BR'")


async def test_launches_are_refused_over_plain_http_off_loopback(
    settings: Settings, clock: ManualClock
) -> None:
    for allow, code in ((False, "http_not_allowed"), (True, "unknown_platform")):
        plain = settings.model_copy(
            update={"public_url": "http://sala.example.edu", "lti_allow_http": allow}
        )
        app = build_app(plain, clock, run_reaper=False, run_workers=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://sala.example.edu"
            ) as client:
                login = await client.get(
                    "/lti/login",
                    params={
                        "iss": "https://lms.example.edu",
                        "login_hint": "u1",
                        "target_link_uri": "http://sala.example.edu/lti/launch",
                    },
                )
                launch = await client.post("/lti/launch", data={"id_token": "x", "state": "y"})
        assert login.headers["x-lti-refusal"] == code, login.text
        if not allow:
            _refused(login, code, 400, "HTTPS", "SALA_PUBLIC_URL")
            _refused(launch, code, 400, "HTTPS")


async def test_the_state_cookie_is_secure_and_samesite_none_under_https(
    settings: Settings, clock: ManualClock
) -> None:
    app = build_app(settings, clock, run_reaper=False, run_workers=False)  # https://sala.test
    async with app.router.lifespan_context(app):
        services = app.state.services
        from sala.lti.platforms import Platforms

        await Platforms(services.db, services.clock).add(
            issuer="https://lms.example.edu",
            client_id="c1",
            auth_login_url="https://lms.example.edu/auth",
            jwks_url="https://lms.example.edu/jwks",
            deployments=["d1"],
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
            login = await client.get(
                "/lti/login",
                params={
                    "iss": "https://lms.example.edu",
                    "login_hint": "u1",
                    "target_link_uri": "https://sala.test/lti/launch",
                },
            )
    assert login.status_code == 302
    assert login.headers["location"].startswith("https://lms.example.edu/auth?")
    cookie = login.headers["set-cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=none", "Path=/lti/"):
        assert attribute in cookie, cookie


async def test_a_platform_whose_login_endpoint_is_plain_http_is_refused(
    settings: Settings, clock: ManualClock
) -> None:
    app = build_app(settings, clock, run_reaper=False, run_workers=False)
    async with app.router.lifespan_context(app):
        services = app.state.services
        from sala.lti.platforms import Platforms

        await Platforms(services.db, services.clock).add(
            issuer="https://lms.example.edu",
            client_id="c1",
            auth_login_url="http://lms.example.edu/auth",
            jwks_url="https://lms.example.edu/jwks",
            deployments=["d1"],
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://sala.test") as client:
            login = await client.get(
                "/lti/login",
                params={
                    "iss": "https://lms.example.edu",
                    "login_hint": "u1",
                    "target_link_uri": "https://sala.test/lti/launch",
                },
            )
    _refused(login, "platform_http", 400, "http://lms.example.edu/auth", "https://")
