"""Every LTI route sala serves, built from the settings and the services.

(H2's version: registration and deep linking, plus a JWKS route until H1's launch module is
merged; H1 owns this module.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sala.config import Settings
from sala.lti.deep_linking import DeepLinking
from sala.lti.keys import ToolKeys
from sala.lti.platforms import Platforms
from sala.lti.registration import DynamicRegistration
from sala.lti.sessions import Sessions
from sala.lti.tool import ToolUrls
from sala.services import Services


def lti_routes(settings: Settings, services: Services) -> list[BaseRoute]:
    urls = ToolUrls(settings.base_url)
    keys = ToolKeys(services.db, services.clock)
    platforms = Platforms(services.db, services.clock)
    sessions = Sessions(services.db, services.clock)
    registration = DynamicRegistration(
        platforms,
        services.http,
        services.destinations,
        urls,
        settings.shared_secret,
        settings.frame_ancestors,
    )
    deep_linking = DeepLinking(sessions, keys, services.clock, urls, settings.frame_ancestors)

    async def jwks(_: Request) -> Response:
        return JSONResponse(await keys.jwks())

    return [
        *registration.routes(),
        *deep_linking.routes(),
        Route("/lti/jwks", jwks, methods=["GET"]),
    ]
