"""The one ASGI endpoint behind `/bigbluebutton/api/<call>`.

It reads the request (query string exactly as sent, optional form or XML body), checks the
checksum before anything else, runs the call, and writes the answer. Every failure, expected or
not, leaves here as a BBB-shaped FAILED document with HTTP 200: clients parse the body, and some
throw on any other status.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sala import checksums as checksum
from sala.api.admission import Admission
from sala.api.context import ApiContext
from sala.api.errors import ApiError, checksum_error, validation_error
from sala.api.params import MAX_PARAMETERS, Params
from sala.api.xml import Fields, to_json, to_xml
from sala.meetings.errors import MeetingError
from sala.request_limits import BodyTooLarge

log = logging.getLogger(__name__)

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
ANY_BODY = FORM_TYPES | {"*"}


@dataclass(frozen=True)
class Memo:
    """An answer that depends only on `owner`, an immutable snapshot (a cached Meeting): it is
    rendered once per snapshot and served as bytes until the snapshot is replaced."""

    key: str
    owner: object
    build: Callable[[], Fields]


Answer = Fields | Response | Memo
MEMO_ENTRIES = 4096
TRACEBACK_EVERY_S = 60.0
VERIFIED_ENTRIES = 8192


NO_PARAMS = Params(())


@functools.lru_cache(maxsize=4096)
def _parsed_query(raw_query: str) -> Params:
    """Query strings repeat (pollers); parse each once. Params are never modified."""
    return Params.from_query(raw_query)


@dataclass
class ApiRequest:
    call: str
    method: str
    params: Params
    headers: Headers
    body: bytes
    content_type: str
    ctx: ApiContext
    form: FormData | None = None

    @property
    def xml_body(self) -> str | None:
        if self.content_type in XML_TYPES and self.body.strip():
            return self.body.decode("utf-8", "replace")
        return None


Handler = Callable[[ApiRequest], Awaitable[Answer]]


@dataclass(frozen=True)
class Call:
    handler: Handler
    methods: frozenset[str] = frozenset({"GET", "POST"})
    checksummed: bool = True
    body_types: frozenset[str] = FORM_TYPES
    """Content types a body may have; ANY_BODY for calls bbb-web reads whatever the type."""
    json_errors: bool = False
    """Calls whose answers are JSON (getJoinUrl...) fail in JSON too."""
    checksum_status: int = 200
    """HTTP status of a checksum failure (200 everywhere but Mconf's hooks/enable)."""
    extra_methods: frozenset[str] = field(default_factory=frozenset)


def wants_json(accept: str, content_type: str, method: str, ctx: ApiContext) -> bool:
    """Opt-in JSON: a client that asks for it with `Accept: application/json` (and not XML)."""
    if not ctx.settings.allow_json_responses:
        return False
    if "application/json" in accept and "xml" not in accept:
        return True
    # BBB 3.0 answers JSON to a bodiless request that declares a JSON Content-Type.
    return method == "GET" and content_type == "application/json"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class RawResponse(Response):
    """A finished body with fixed headers; skips Response's header building on the hot path."""

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]], status: int = 200) -> None:
        self.body = body
        self.status_code = status
        self.raw_headers = [*headers, (b"content-length", str(len(body)).encode("ascii"))]
        self.background = None


def render(document: Fields, as_json: bool, status: int = 200) -> RawResponse:
    if as_json:
        return RawResponse(to_json(document), _JSON_HEADERS, status)
    return RawResponse(to_xml(document), _XML_HEADERS, status)


def failed(key: str, message: str) -> Fields:
    return [("returncode", "FAILED"), ("messageKey", key), ("message", message)]


API_PREFIX = "/bigbluebutton/api"
_XML_HEADERS = [(b"content-type", b"text/xml;charset=UTF-8"), (b"cache-control", b"no-cache")]
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]


class ApiEndpoint:
    """A plain ASGI app: integrations poll some calls thousands of times a second, and the
    framework's routing and middleware would cost more than the call itself."""

    def __init__(self, ctx: ApiContext, calls: dict[str, Call]) -> None:
        self._ctx = ctx
        self._calls = calls
        self._memo: dict[tuple[str, bool], tuple[object, RawResponse]] = {}
        self._verified: dict[tuple[str, str], None] = {}
        self._traced: dict[tuple[str, str], float] = {}
        self._admission = Admission(ctx.settings.api_concurrency)

    @property
    def body_limit(self) -> int:
        return self._ctx.settings.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        call_name = request.scope["path"][len(API_PREFIX) :].strip("/")
        content_type = _header(request.scope, b"content-type").split(";")[0].strip().lower()
        as_json = wants_json(
            _header(request.scope, b"accept"), content_type, request.method, self._ctx
        )
        call = self._calls.get(call_name)
        try:
            if call is None:
                raise ApiError("unsupportedRequest", "Request not recognized")
            answer = await self._run(call_name, call, request, content_type)
        except ApiError as exc:
            return self._failure(call, exc.key, exc.message, as_json, exc.status)
        except MeetingError as exc:
            return self._failure(call, exc.key, exc.message, as_json)
        except BodyTooLarge as exc:
            return self._failure(call, "sizeError", str(exc), as_json)
        except ClientDisconnect:
            return Response(status_code=499)
        except Exception as exc:
            self._log_unexpected(call_name, exc)
            return self._failure(
                call, "internalError", "An unexpected error happened; it was logged.", as_json
            )
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, Memo):
            return self._memoized(answer, as_json)
        return render(answer, as_json)

    def _log_unexpected(self, call_name: str, exc: Exception) -> None:
        """One line per failure; the traceback once a minute per call and kind of error, so
        requests that keep failing the same way cannot flood the log."""
        key = (call_name, type(exc).__name__)
        now = time.monotonic()
        if now - self._traced.get(key, -TRACEBACK_EVERY_S) >= TRACEBACK_EVERY_S:
            self._traced[key] = now
            log.error("API call %s failed", call_name, exc_info=exc)
        else:
            log.error("API call %s failed: %s", call_name, type(exc).__name__)

    def _memoized(self, memo: Memo, as_json: bool) -> RawResponse:
        key = (memo.key, as_json)
        entry = self._memo.get(key)
        if entry is not None and entry[0] is memo.owner:
            return entry[1]
        response = render(memo.build(), as_json)
        if len(self._memo) >= MEMO_ENTRIES:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = (memo.owner, response)
        return response

    def _failure(
        self, call: Call | None, key: str, message: str, as_json: bool, status: int = 200
    ) -> Response:
        return render(failed(key, message), as_json or bool(call and call.json_errors), status)

    async def _run(self, call_name: str, call: Call, request: Request, content_type: str) -> Answer:
        method = "GET" if request.method == "HEAD" else request.method
        if method not in call.methods:
            raise ApiError(
                "unsupportedRequest", f"{call_name} does not accept {request.method} requests"
            )
        raw_query = request.scope.get("query_string", b"").decode("utf-8", "replace")
        # Parsed (and too many parameters refused) before the body is read.
        query_params = _parsed_query(raw_query)
        body, form = await self._read_body(request, call, content_type)
        async with self._admission:
            return await self._checked(
                call_name, call, request, method, raw_query, query_params, body, form, content_type
            )

    async def _checked(
        self,
        call_name: str,
        call: Call,
        request: Request,
        method: str,
        raw_query: str,
        query_params: Params,
        body: bytes,
        form: FormData | None,
        content_type: str,
    ) -> Answer:
        body_params = NO_PARAMS
        if form is not None:
            body_params = Params((k, v) for k, v in form.multi_items() if isinstance(v, str))
        # The polling path (no body) uses the query's cached parameters as they are.
        params = query_params
        bodiless = not body and form is None
        if not call.checksummed:
            if form is not None:
                params = query_params.merged(body_params)
        else:
            try:
                # A signed call acts only on what its checksum covers (_verify says which).
                if not bodiless or (call_name, raw_query) not in self._verified:
                    params = self._verify(
                        call_name, raw_query, query_params, body, content_type, body_params
                    )
                    if bodiless:
                        self._remember_verified(call_name, raw_query)
            except ApiError as exc:
                exc.status = call.checksum_status
                raise
        try:
            return await call.handler(
                ApiRequest(
                    call=call_name,
                    method=method,
                    params=params,
                    headers=request.headers,
                    body=body,
                    content_type=content_type,
                    ctx=self._ctx,
                    form=form,
                )
            )
        finally:
            if form is not None:
                await form.close()  # uploaded parts spooled to temporary files

    async def _read_body(
        self, request: Request, call: Call, content_type: str
    ) -> tuple[bytes, FormData | None]:
        """The body, bounded while it is read (app.py wraps `receive` with the size limit, so
        chunked bodies and multipart parts count too)."""
        if request.method != "POST":
            return b"", None
        limit = self._ctx.settings.max_request_bytes
        if content_type == "multipart/form-data" and "multipart/form-data" in call.body_types:
            # The parser itself, not request.form(), which turns its errors into HTTP 400s.
            parser = MultiPartParser(
                request.headers,
                request.stream(),
                # bbb-web counts no file parts; the body limit bounds what they cost.
                max_files=MAX_PARAMETERS,
                max_fields=MAX_PARAMETERS,
                max_part_size=limit,
            )
            try:
                form = await parser.parse()
            except MultiPartException as exc:
                if "Too many" in exc.message:
                    raise ApiError("sizeError", exc.message) from None
                raise validation_error(f"The multipart body is malformed: {exc.message}") from None
            except (ValueError, KeyError) as exc:
                # python-multipart's parse errors (ValueErrors) and a missing boundary.
                raise validation_error(
                    f"The multipart body is malformed ({type(exc).__name__})"
                ) from None
            return b"", form
        chunks: list[bytes] = []
        async for chunk in request.stream():
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            return b"", None
        if content_type not in call.body_types and "*" not in call.body_types:
            raise ApiError(
                "unsupportedContentType", "POST request Content-Type is missing or unsupported"
            )
        if content_type == "application/x-www-form-urlencoded":
            text = body.decode("utf-8", "replace")
            pairs: list[tuple[str, str | UploadFile]] = list(Params.from_query(text).all_pairs())
            return body, FormData(pairs)
        return body, None

    def _remember_verified(self, call_name: str, raw_query: str) -> None:
        # Pollers repeat the very same signed URL; its checksum cannot stop matching.
        if len(self._verified) >= VERIFIED_ENTRIES:
            self._verified.pop(next(iter(self._verified)))
        self._verified[(call_name, raw_query)] = None

    def _verify(
        self,
        call_name: str,
        raw_query: str,
        query_params: Params,
        body: bytes,
        content_type: str,
        body_params: Params,
    ) -> Params:
        """Check the checksum and answer the parameters it covers, the only ones the call may
        act on: a checksum over the query string signs the query's parameters, not a body's.

        Candidates, as bbb-web hashes them: the query string without the checksum; and, when
        the query string carries nothing else, the form body as sent or bbb-web's canonical
        rebuild of its parameters (sorted keys, Java-style encoding).
        """
        query_without, supplied = checksum.split_checksum(raw_query)
        candidates: list[tuple[str, Params]] = [(query_without, query_params)]
        signed_body = NO_PARAMS
        if body_params and not query_without:
            signed_body = Params(p for p in body_params.all_pairs() if p[0] != "checksum")
        if signed_body:
            supplied = supplied or body_params.get("checksum")
            if content_type == "application/x-www-form-urlencoded" and body:
                body_without, _ = checksum.split_checksum(body.decode("utf-8", "replace"))
                candidates.append((body_without, signed_body))
            candidates.append(
                (checksum.canonical_form_string(signed_body.all_values()), signed_body)
            )
        if not supplied:
            raise checksum_error("You must provide the checksum")
        index = checksum.matching(
            call_name,
            [text for text, _ in candidates],
            supplied,
            self._ctx.settings.shared_secret,
            self._ctx.settings.accepted_algorithms,
        )
        if index is None:
            raise checksum_error()
        return candidates[index][1]
