"""How a launch becomes a create and a join: the activity's settings from its custom parameters
(anything unknown leaves the server's default), names create accepts, the user's IDs and
picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sala.config import load_settings
from sala.lti import meetings as activity
from sala.lti.claims import Launch
from sala.meetings.model import Role
from tests.conftest import SECRET
from tests.lti.landing_support import INSTRUCTOR, LEARNER, launch_claims


def launch(claims: dict[str, Any]) -> Launch:
    return Launch.from_claims(claims, platform_id=1, client_id="sala-tool")


def test_settings_from_custom_parameters(tmp_path: Path) -> None:
    settings = load_settings(secret=SECRET, data_dir=tmp_path, default_guest_policy="ALWAYS_DENY")
    custom = {"record": "TRUE", "muteOnStart": "yes", "guestPolicy": "ask_moderator"}
    spec = activity.create_spec(
        launch(launch_claims("t", "Ana", INSTRUCTOR, custom=custom)), settings
    )
    assert spec.record is True
    assert spec.settings["muteOnStart"] is True
    assert spec.settings["guestPolicy"] == "ASK_MODERATOR"

    odd = {"record": "maybe", "guestPolicy": "EVERYBODY"}
    plain = activity.create_spec(
        launch(launch_claims("t", "Ana", INSTRUCTOR, custom=odd)), settings
    )
    assert plain.record is False and plain.settings["muteOnStart"] is False
    assert plain.settings["guestPolicy"] == "ALWAYS_DENY"  # the server's default


def test_names_create_accepts(tmp_path: Path) -> None:
    settings = load_settings(secret=SECRET, data_dir=tmp_path)
    claims = launch_claims("t", "Ana", INSTRUCTOR)
    claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {"id": "l", "title": "X"}
    assert activity.create_spec(launch(claims), settings).name == "X (LTI)"
    claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
        "id": "l",
        "title": "a" * 400,
    }
    assert len(activity.create_spec(launch(claims), settings).name) == 256


def test_join_as_the_launch_user() -> None:
    teacher = launch(
        launch_claims("t1", "Ana Lima", INSTRUCTOR, locale="es", picture="https://lms.test/a.png")
    )
    spec = activity.join_spec(teacher)
    assert (spec.full_name, spec.role, spec.guest) == ("Ana Lima", Role.MODERATOR, False)
    assert spec.avatar_url == "https://lms.test/a.png"
    assert spec.custom_data == {"bbb_override_default_locale": "es-ES"}
    assert spec.external_user_id == activity.user_id("https://lms.test", "t1")
    assert spec.external_user_id != activity.user_id("https://other.test", "t1")

    claims = launch_claims("s1", "", LEARNER, locale="pt-BR", picture="http://lms.test/b.png")
    claims.pop("email")
    learner = activity.join_spec(launch(claims))
    assert (learner.full_name, learner.role) == ("Participante", Role.VIEWER)
    assert learner.avatar_url == ""  # plain http would be mixed content in the room
