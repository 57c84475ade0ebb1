"""Reading a launch's claims: LIS role URIs of every shape map to moderator or viewer as the
operator configures, and a platform's locale picks the room's nearest language."""

from __future__ import annotations

import pytest

from sala.lti.claims import is_moderator, locale_of, role_name

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (LIS + "membership#Instructor", "Instructor"),
        (LIS + "membership/Instructor#TeachingAssistant", "TeachingAssistant"),
        (LIS + "institution/person#Administrator", "Administrator"),
        (LIS + "system/person#Administrator", "Administrator"),
        (LIS + "membership#Learner", "Learner"),
        ("Instructor", "Instructor"),
    ],
)
def test_role_names(role: str, name: str) -> None:
    assert role_name(role) == name


def test_moderators_by_default_and_by_configuration() -> None:
    default = {"Instructor", "Administrator", "TeachingAssistant"}
    assert is_moderator([LIS + "membership#Learner", LIS + "membership#Instructor"], default)
    assert is_moderator([LIS + "membership/Instructor#TeachingAssistant"], default)
    assert not is_moderator([LIS + "membership#Learner", LIS + "membership#Mentor"], default)
    assert not is_moderator([], default)
    assert is_moderator([LIS + "membership#Mentor"], {"mentor"})
    assert not is_moderator([LIS + "membership#Instructor"], {"Administrator"})


@pytest.mark.parametrize(
    ("given", "locale"),
    [
        ("pt_BR", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("es-419", "es-ES"),
        ("es", "es-ES"),
        ("en-GB", "en-US"),
        ("fr-FR", "en-US"),
        (None, "en-US"),
        ("", "en-US"),
    ],
)
def test_locale(given: str | None, locale: str) -> None:
    assert locale_of(given) == locale
