"""What a verified launch says, in sala's terms: the LTI 1.3 claims of an id_token, read into a
`Launch`, and the role mapping that makes a launch's user a moderator or a viewer.

Nothing here verifies anything: a `Launch` is made only from a payload whose signature, issuer,
audience, expiry, nonce and deployment were checked (sala/lti/launch.py). Claim names are those of
the IMS LTI 1.3 Core, Deep Linking 2.0 and Names and Role Provisioning Services 2.0 specs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
CUSTOM = LTI + "custom"
TOOL_PLATFORM = LTI + "tool_platform"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
NAMES_ROLES = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"

DEFAULT_MODERATOR_ROLES = frozenset({"Instructor", "Administrator", "TeachingAssistant"})
"""Role names (the last part of an LIS role URI) whose holders join as moderators."""

LOCALES = ("en-US", "pt-BR", "es-ES")


def role_name(role: str) -> str:
    """`http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor` → `Instructor`;
    `…/membership/Instructor#TeachingAssistant` → `TeachingAssistant`; a short name as sent
    (older platforms send `Instructor`)."""
    for separator in ("#", "/"):
        if separator in role:
            return role.rsplit(separator, 1)[1]
    return role


def is_moderator(roles: Collection[str], moderator_roles: Collection[str]) -> bool:
    wanted = {name.casefold() for name in moderator_roles}
    return any(role_name(role).casefold() in wanted for role in roles)


def locale_of(language: str | None) -> str:
    """The room's language nearest to a platform's locale (`pt_BR`, `es-419`, `en`…)."""
    prefix = (language or "").replace("_", "-").split("-", 1)[0].casefold()
    return {"pt": "pt-BR", "es": "es-ES"}.get(prefix, "en-US")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Launch:
    """One verified launch: who, from where, into what."""

    issuer: str
    client_id: str
    platform_id: int
    deployment_id: str
    message_type: str
    sub: str
    """The user's id on the platform (may be empty for an anonymous launch)."""
    name: str
    email: str
    picture: str
    roles: tuple[str, ...]
    moderator: bool
    context_id: str
    context_title: str
    context_label: str
    resource_link_id: str
    resource_link_title: str
    locale: str
    """One of LOCALES."""
    return_url: str
    custom: Mapping[str, str]
    deep_linking: Mapping[str, Any] | None
    names_roles_url: str | None
    claims: Mapping[str, Any] = field(repr=False)
    """The whole verified payload."""

    @classmethod
    def from_claims(
        cls,
        claims: Mapping[str, Any],
        *,
        platform_id: int,
        client_id: str,
        moderator_roles: Collection[str] = DEFAULT_MODERATOR_ROLES,
    ) -> Launch:
        roles = tuple(r for r in claims.get(ROLES) or () if isinstance(r, str))
        context = _object(claims.get(CONTEXT))
        link = _object(claims.get(RESOURCE_LINK))
        presentation = _object(claims.get(LAUNCH_PRESENTATION))
        custom = {
            str(k): str(v)
            for k, v in _object(claims.get(CUSTOM)).items()
            if isinstance(v, str | int | float | bool)
        }
        full = " ".join(
            part
            for part in (_text(claims.get("given_name")), _text(claims.get("family_name")))
            if part
        )
        names_roles = _object(claims.get(NAMES_ROLES))
        settings = claims.get(DEEP_LINKING_SETTINGS)
        return cls(
            issuer=_text(claims.get("iss")),
            client_id=client_id,
            platform_id=platform_id,
            deployment_id=_text(claims.get(DEPLOYMENT_ID)),
            message_type=_text(claims.get(MESSAGE_TYPE)),
            sub=_text(claims.get("sub")),
            name=_text(claims.get("name")).strip() or full,
            email=_text(claims.get("email")),
            picture=_text(claims.get("picture")),
            roles=roles,
            moderator=is_moderator(roles, moderator_roles),
            context_id=_text(context.get("id")),
            context_title=_text(context.get("title")),
            context_label=_text(context.get("label")),
            resource_link_id=_text(link.get("id")),
            resource_link_title=_text(link.get("title")),
            locale=locale_of(_text(presentation.get("locale")) or _text(claims.get("locale"))),
            return_url=_text(presentation.get("return_url")),
            custom=custom,
            deep_linking=settings if isinstance(settings, Mapping) else None,
            names_roles_url=_text(names_roles.get("context_memberships_url")) or None,
            claims=claims,
        )
