"""A launch from the LMS simulator into sala over real HTTP: login initiation, the platform's
authorization, the signed id_token posted back, and sala's 303 to the landing page with a
session whose Launch says who came, from where, into what."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sala.lti.claims import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST
from tests.lti.conftest import LtiBed
from tests.support.lms.core import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT, Course, ResourceLink


async def test_an_instructor_lands_as_moderator_with_the_launch_context(lti: LtiBed) -> None:
    launched = await lti.launch(
        INSTRUCTOR,
        course=Course("c-9", "Álgebra Linear", "MAT201"),
        resource_link=ResourceLink("rl-42", "Plantão de dúvidas"),
        custom={"record": "true", "waitForModerator": "false"},
        locale="es-419",
    )

    assert launched.location is not None, launched.visit.final.text
    assert launched.location.startswith(lti.sala.base + "/lti/rooms/")
    redirect = next(
        r
        for r in launched.visit.history
        if r.is_redirect and "/lti/rooms/" in r.headers["location"]
    )
    assert redirect.status_code == 303
    assert launched.session is not None
    launch = launched.session.launch
    assert launch.moderator
    assert launch.message_type == RESOURCE_LINK_REQUEST
    assert (launch.issuer, launch.client_id, launch.platform_id) == (
        lti.sim.issuer,
        lti.sim.client_id,
        lti.platform.id,
    )
    assert launch.deployment_id == lti.sim.deployment_id
    assert (launch.sub, launch.name, launch.email) == (INSTRUCTOR.id, "Ana Souza", INSTRUCTOR.email)
    assert launch.picture == INSTRUCTOR.picture
    assert (launch.context_id, launch.context_title, launch.context_label) == (
        "c-9",
        "Álgebra Linear",
        "MAT201",
    )
    assert (launch.resource_link_id, launch.resource_link_title) == ("rl-42", "Plantão de dúvidas")
    assert launch.custom == {"record": "true", "waitForModerator": "false"}
    assert launch.locale == "es-ES"
    assert launch.names_roles_url == lti.sim.memberships_url(Course("c-9"))


async def test_the_platform_saw_a_conforming_authorization_request(lti: LtiBed) -> None:
    launched = await lti.launch(LEARNER)

    assert lti.sim.auth_errors == []
    authorize = next(r for r in launched.visit.history if r.request.url.path == "/auth")
    query = parse_qs(urlsplit(str(authorize.request.url)).query)
    assert query["scope"] == ["openid"]
    assert query["response_type"] == ["id_token"]
    assert query["response_mode"] == ["form_post"]
    assert query["prompt"] == ["none"]
    assert query["client_id"] == [lti.sim.client_id]
    assert query["redirect_uri"] == [lti.sala.base + "/lti/launch"]
    assert query["login_hint"] == [LEARNER.id]
    assert query["lti_message_hint"] == [launched.prepared.hint]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32


async def test_a_learner_lands_as_viewer_and_a_teaching_assistant_as_moderator(lti: LtiBed) -> None:
    learner = await lti.launch(LEARNER)
    assistant = await lti.launch(TEACHING_ASSISTANT)

    assert learner.session is not None and assistant.session is not None
    assert not learner.session.launch.moderator
    assert learner.session.launch.name == "Bruno Lima"
    assert assistant.session.launch.moderator
    assert learner.session.token != assistant.session.token


async def test_a_deep_linking_request_lands_on_the_deep_linking_page(lti: LtiBed) -> None:
    launched = await lti.launch(INSTRUCTOR, deep_linking=True)

    assert launched.location is not None, launched.visit.final.text
    assert launched.location.startswith(lti.sala.base + "/lti/deep-link/")
    assert launched.session is not None
    launch = launched.session.launch
    assert launch.message_type == DEEP_LINKING_REQUEST
    assert launch.deep_linking is not None
    assert launch.deep_linking["deep_link_return_url"] == lti.sim.base + "/deep-linking/return"


async def test_login_initiation_by_post_works_too(lti: LtiBed) -> None:
    prepared = lti.sim.prepare(LEARNER)
    browser = lti.browser()

    visit = await browser.post(lti.sala.base + "/lti/login", lti.sim.login_params(prepared))

    assert visit.redirect_to("/lti/rooms/") is not None, visit.final.text


async def test_the_state_cookie_is_httponly_and_scoped_to_lti(lti: LtiBed) -> None:
    prepared = lti.sim.prepare(LEARNER)
    browser = lti.browser()

    response = await browser.http.get(
        lti.sala.base + "/lti/login", params=lti.sim.login_params(prepared)
    )

    assert response.status_code == 302
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sala_lti_")
    assert "HttpOnly" in cookie and "Path=/lti/" in cookie
    # Plain http on loopback: SameSite=None needs Secure, so the tests' same-site platform
    # gets Lax (under https it is None; Secure, see test_security).
    assert "SameSite=lax" in cookie
