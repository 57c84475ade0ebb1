"""`sala lti …`: what an operator does by hand to connect learning platforms.

- `show-config`: the URLs to paste into a platform that registers tools by hand (with
  `--format canvas`, Canvas's developer key JSON);
- `registration-url`: the dynamic registration URL (it carries a key derived from the shared
  secret; whoever has it can register a platform, so give it to platform administrators only);
- `add-platform`, `add-deployment`, `list`, `remove`: the platforms sala trusts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sala.config import Settings
from sala.lti.tool import CLAIMS, DESCRIPTION, SCOPES, TOOL_NAME, ToolUrls, secure_url

if TYPE_CHECKING:
    from sala.lti.platforms import Platform, Platforms

DEEP_LINKING = "LtiDeepLinkingRequest"


def add_lti_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Adds `sala lti` to `sala`'s subcommands; the caller sets its `func`."""
    lti = subparsers.add_parser(
        "lti", help="connect learning platforms (Moodle, Canvas, …) over LTI 1.3 (docs/lti.md)"
    )
    actions = lti.add_subparsers(dest="lti_action", required=True)
    config = actions.add_parser(
        "show-config", help="print the URLs to paste into a platform's tool registration"
    )
    config.add_argument(
        "--format",
        choices=("text", "canvas"),
        default="text",
        help="canvas: the JSON of a Canvas LTI developer key (Paste JSON)",
    )
    url = actions.add_parser(
        "registration-url",
        help="print the dynamic registration URL for platform administrators (keep it private)",
    )
    url.add_argument(
        "--issuer",
        help="a URL for this platform issuer only, when its configuration is served from "
        "another site (Canvas: https://canvas.instructure.com)",
    )
    add = actions.add_parser("add-platform", help="trust a platform registered by hand")
    add.add_argument("--issuer", required=True, help="the platform's issuer (iss), an HTTPS URL")
    add.add_argument("--client-id", required=True, help="the client id the platform gave sala")
    add.add_argument(
        "--auth-login-url",
        required=True,
        help="the platform's OIDC authentication request URL (authorization endpoint)",
    )
    add.add_argument("--jwks-url", required=True, help="the platform's public keyset URL")
    add.add_argument(
        "--auth-token-url", help="the platform's OAuth2 access token URL (for the course roster)"
    )
    add.add_argument(
        "--token-audience", help="the audience of token requests, when not the token URL"
    )
    add.add_argument("--name", default="", help="a name to recognise it by")
    add.add_argument(
        "--deployment",
        action="append",
        default=[],
        metavar="DEPLOYMENT_ID",
        help="a deployment id (repeat for several; add more later with add-deployment)",
    )
    deployment = actions.add_parser("add-deployment", help="trust another deployment")
    deployment.add_argument("platform", type=int, metavar="PLATFORM_ID")
    deployment.add_argument("deployment_id", metavar="DEPLOYMENT_ID")
    actions.add_parser("list", help="list the platforms sala trusts and their deployments")
    remove = actions.add_parser("remove", help="stop trusting a platform")
    remove.add_argument("platform", type=int, metavar="PLATFORM_ID")
    result: argparse.ArgumentParser = lti
    return result


def run_lti_command(args: argparse.Namespace, settings: Settings) -> int:
    urls = ToolUrls(settings.base_url)
    action = args.lti_action
    if action == "show-config":
        print(canvas_json(urls) if args.format == "canvas" else show_config(urls, settings))
        return 0
    if action == "registration-url":
        if args.issuer is not None and not secure_url(args.issuer):
            print("sala: --issuer: LTI 1.3 needs an HTTPS URL", file=sys.stderr)
            return 2
        print(urls.registration(settings.shared_secret, args.issuer))
        return 0
    if action == "add-platform":
        bad = [
            f"--{name.replace('_', '-')}"
            for name in ("issuer", "auth_login_url", "jwks_url", "auth_token_url")
            if getattr(args, name) and not secure_url(getattr(args, name))
        ]
        if bad:
            print(f"sala: {', '.join(bad)}: LTI 1.3 needs HTTPS URLs", file=sys.stderr)
            return 2
    return asyncio.run(_with_platforms(settings, lambda platforms: _store(args, platforms)))


async def _with_platforms(settings: Settings, work: Callable[[Platforms], Awaitable[int]]) -> int:
    # Here, not at the top: `sala --help` and the other commands need no database modules.
    from sala.clock import SystemClock
    from sala.lti.platforms import Platforms
    from sala.store.db import Database

    db = Database(settings.sqlalchemy_url)
    try:
        await db.migrate()
        return await work(Platforms(db, SystemClock()))
    finally:
        await db.dispose()


async def _store(args: argparse.Namespace, platforms: Platforms) -> int:
    from sala.lti.platforms import PlatformExists

    action = args.lti_action
    if action == "add-platform":
        try:
            platform = await platforms.add(
                issuer=args.issuer,
                client_id=args.client_id,
                auth_login_url=args.auth_login_url,
                jwks_url=args.jwks_url,
                auth_token_url=args.auth_token_url,
                token_audience=args.token_audience,
                name=args.name,
                deployments=args.deployment,
                registered_by="cli",
            )
        except PlatformExists:
            print(
                f"sala: {args.issuer} is already registered with client id {args.client_id} "
                "(`sala lti list`)",
                file=sys.stderr,
            )
            return 1
        print(f"added platform {platform.id}: {_describe(platform)}")
        if not platform.deployments:
            print(
                "no deployment yet: launches are refused until you add one "
                f"(`sala lti add-deployment {platform.id} DEPLOYMENT_ID`)"
            )
        return 0
    if action == "add-deployment":
        found = await platforms.get(args.platform)
        if found is None:
            print(f"sala: no platform {args.platform} (`sala lti list`)", file=sys.stderr)
            return 1
        added = await platforms.add_deployment(found.id, args.deployment_id)
        state = "added" if added else "already known"
        print(f"deployment {args.deployment_id} of platform {found.id}: {state}")
        return 0
    if action == "list":
        found_all = await platforms.all()
        if not found_all:
            print("no platforms (`sala lti registration-url` or `sala lti add-platform`)")
        for platform in found_all:
            print(f"{platform.id}  {_describe(platform)}")
        return 0
    if action == "remove":
        gone = await platforms.remove(args.platform)
        if not gone:
            print(f"sala: no platform {args.platform} (`sala lti list`)", file=sys.stderr)
            return 1
        print(f"removed platform {args.platform}, its deployments and its open sessions")
        return 0
    raise AssertionError(action)


def _describe(platform: Platform) -> str:
    when = datetime.fromtimestamp(platform.created_at / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    deployments = ", ".join(platform.deployments) or "none"
    name = f"{platform.name}  " if platform.name else ""
    return (
        f"{name}{platform.issuer}  client {platform.client_id}  deployments: {deployments}  "
        f"({platform.registered_by}, {when} UTC)"
    )


def show_config(urls: ToolUrls, settings: Settings) -> str:
    lines = [
        f"sala as an LTI 1.3 tool, at {settings.base_url}",
        "",
        f"  Tool URL / target link URI:          {urls.launch}",
        f"  Login initiation URL (OIDC login):   {urls.login}",
        f"  Redirect URI(s):                     {urls.launch}",
        f"  Deep linking (content selection):    {urls.deep_linking}",
        f"  Public keyset (JWKS) URL:            {urls.jwks}",
        f"  Domain:                              {urls.domain}",
        "  Public key type:                     Keyset URL (not a pasted key: sala rotates it)",
        f"  Services (scopes):                   {' '.join(SCOPES)}",
        f"  Claims it reads:                     {', '.join(CLAIMS)}",
        "",
        "Then tell sala about the platform with what the platform shows you:",
        "  sala lti add-platform --issuer … --client-id … --auth-login-url … --jwks-url … \\",
        "      --auth-token-url … --deployment …",
        "",
        "Platforms that support LTI Dynamic Registration need none of this: give their",
        "administrator the URL `sala lti registration-url` prints.",
    ]
    if not settings.base_url.startswith("https://"):
        lines += [
            "",
            f"Warning: {settings.base_url} is not HTTPS; platforms launch tools only over HTTPS "
            "(set SALA_PUBLIC_URL).",
        ]
    return "\n".join(lines)


def canvas_json(urls: ToolUrls) -> str:
    """The JSON of a Canvas LTI developer key (Developer Keys → + Developer Key → + LTI Key →
    Method: Paste JSON)."""
    key = {
        "title": TOOL_NAME,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urls.domain,
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "link_selection",
                            "message_type": DEEP_LINKING,
                            "target_link_uri": urls.deep_linking,
                            "text": TOOL_NAME,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": DEEP_LINKING,
                            "target_link_uri": urls.deep_linking,
                            "text": TOOL_NAME,
                        },
                    ]
                },
            }
        ],
        "custom_fields": {},
    }
    return json.dumps(key, indent=2)
