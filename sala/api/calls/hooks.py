"""hooks/create, hooks/destroy, hooks/list, hooks/enable and hooks/ping (bbb-webhooks' API with
the Mconf additions: per-hook authToken, comma-separated meetingIDs, enabled, hooks/enable).

hooks/create registers any http(s) URL sala could ever send to, as bbb-webhooks registers any
URL: where deliveries may go is decided at each delivery by the destination policy
(sala/events/destinations.py), so loopback and private receivers work by default and a hook
aimed at a metadata address is registered but never called, the reason in the operator's log.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from starlette.responses import PlainTextResponse

from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError
from sala.api.xml import Cdata, Fields, Repeated
from sala.events.destinations import DestinationPolicy, DestinationRefused
from sala.events.hooks import Hook

DUPLICATE = "There is already a hook for this callback URL."
_JSON_FALSY = (False, None, 0, "")


def shared_secret_guid(secret: str) -> str:
    """A stable, non-reversible ID of the shared secret (Mconf's sharedSecretGUID)."""
    digest = hashlib.sha256(("sala:" + secret).encode()).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, digest))


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _event_ids(value: str | None) -> list[str] | None:
    """bbb-webhooks' `eventID`: lower-cased and split on commas. Given empty, it is kept (and
    listed as `<eventID/>`) but filters nothing (sala/events/hooks.py says why)."""
    if value is None:
        return None
    return [e.lower() for e in _csv(value)]


def _get_raw(value: str | None) -> bool:
    """bbb-webhooks reads `getRaw` as lower-cased JSON and keeps its truthiness (`TRUE`, `1`);
    a value that is not JSON leaves its request unanswered there, an error here."""
    if not value:
        return False
    try:
        parsed = json.loads(value.lower())
    except ValueError:
        raise ApiError("createHookError", "The getRaw parameter must be true or false.") from None
    return parsed not in _JSON_FALSY  # JavaScript's falsy JSON values


async def create(req: ApiRequest) -> Answer:
    url = req.params.nonempty("callbackURL")
    if url is None:
        raise ApiError(
            "missingParamCallbackURL", "You must specify a callbackURL in the parameters."
        )
    try:
        # Only what no delivery could ever use; the destination policy is applied when sending.
        DestinationPolicy.check_syntax(url)
    except DestinationRefused as exc:
        raise ApiError("createHookError", f"The callbackURL cannot be used: {exc}.") from None
    raw = _get_raw(req.params.text("getRaw"))
    enabled = req.params.boolean("enabled", req.ctx.settings.hooks_enabled_by_default)
    hook, duplicate = await req.ctx.hooks.create(
        url,
        _csv(req.params.nonempty("meetingID")),
        _event_ids(req.params.text("eventID")),
        raw,
        enabled,
    )
    if duplicate:
        # bbb-webhooks' answer for a URL already registered (nothing is updated), plus the
        # existing hook's Mconf identity and token, which the integrator needs to verify
        # deliveries.
        return [
            ("returncode", "SUCCESS"),
            ("hookID", hook.id),
            ("hookGUID", hook.guid),
            ("authToken", hook.auth_token),
            ("messageKey", "duplicateWarning"),
            ("message", DUPLICATE),
        ]
    return [
        ("returncode", "SUCCESS"),
        ("hookID", hook.id),
        ("hookGUID", hook.guid),
        ("authToken", hook.auth_token),
        ("sharedSecretGUID", shared_secret_guid(req.ctx.settings.shared_secret)),
        ("permanentHook", False),
        ("rawData", hook.raw),
    ]


def _hook_id(req: ApiRequest, missing_status: int = 200) -> int | None:
    raw = req.params.nonempty("hookID")
    if raw is None:
        raise ApiError(
            "missingParamHookID",
            "You must specify a hookID in the parameters.",
            status=missing_status,
        )
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def destroy(req: ApiRequest) -> Answer:
    hook_id = _hook_id(req)
    if hook_id is None or not await req.ctx.hooks.destroy(hook_id):
        raise ApiError("destroyMissingHook", "The hook informed was not found.")
    return [("returncode", "SUCCESS"), ("removed", True)]


def hook_fields(hook: Hook, secret_guid: str) -> Fields:
    """bbb-webhooks' elements, then Mconf's. Why a hook was disabled is in the log (a warning),
    not here: no BBB or Mconf answer has such an element."""
    meetings = Cdata(",".join(hook.meeting_ids)) if hook.meeting_ids else None
    return [
        ("hookID", hook.id),
        ("callbackURL", Cdata(hook.callback_url)),
        ("meetingID", meetings),
        ("eventID", ",".join(hook.event_ids) if hook.event_ids is not None else None),
        ("permanentHook", False),
        ("rawData", hook.raw),
        ("hookGUID", hook.guid),
        ("authToken", hook.auth_token),
        ("sharedSecretGUID", secret_guid),
        ("enabled", hook.enabled),
        ("externalMeetingID", meetings),
    ]


async def list_hooks(req: ApiRequest) -> Answer:
    """Every hook, or with `meetingID` the global ones and those bound to it, by ID (what
    bbb-webhooks v3.4 means to answer: it lists only the first bound hook, and fails with
    listHookError when none is bound or, before v3.4, always)."""
    hooks = await req.ctx.hooks.listed(req.params.nonempty("meetingID"))
    guid = shared_secret_guid(req.ctx.settings.shared_secret)
    return [
        ("returncode", "SUCCESS"),
        ("hooks", Repeated("hook", [hook_fields(h, guid) for h in hooks])),
    ]


async def enable(req: ApiRequest) -> Answer:
    """Mconf's call; it answers with HTTP status codes besides the FAILED body."""
    raw = req.params.nonempty("hookID")
    if raw is None:
        raise ApiError(
            "missingParamHookID", "You must specify a hookID in the parameters.", status=400
        )
    if not (raw.isdigit() and len(raw) < 12):
        raise ApiError(
            "invalidParamHookID", "You must specify a valid hookID in the parameters.", status=422
        )
    if not await req.ctx.hooks.enable(int(raw)):
        raise ApiError(
            "enableMissingHook",
            "The hook informed was not found or the shared secret didn't match the hook's.",
            status=404,
        )
    return [("returncode", "SUCCESS"), ("hookID", int(raw)), ("enabled", True)]


async def ping(req: ApiRequest) -> Answer:
    return PlainTextResponse("bbb-webhooks API up!")
