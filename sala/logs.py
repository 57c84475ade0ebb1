"""Logging for `sala serve` and `sala worker`: where log lines go, and what never goes with them.

Logs go to stderr, through one handler on the root logger; uvicorn is told not to install its own
(`log_config=None`), so its lines pass through the same handler. The start banner with the shared
secret is printed on stdout instead: that is the console, as `bbb-conf --secret` prints it, and a
log file made of stderr never holds it.

Every line is redacted on its way out, at every level, by `Redactor`: the shared secret and the
other configured secrets wherever they appear; values of credential-like parameters in URLs and
`key=value` text (checksum, password, moderatorPW, attendeePW, sessionToken, authToken, token,
session, secret, signed_parameters, the `sala_room` cookie...), in JSON and Python reprs, and in
XML; `Authorization`/`Cookie`/`Set-Cookie` header values, also as httpcore's byte tuples;
`Bearer` tokens; JWTs; passwords in URLs. It works on the formatted text, tracebacks included,
so it covers third-party loggers (uvicorn's WebSocket handshake headers and request lines,
httpx's request URLs, httpcore's headers) without knowing their formats.

Two library traces carry secrets in forms no pattern can recognise, and are handled at source:
WebSocket frames (logged by websockets at debug, elided so a value may be cut anywhere) are
logged as their type and size only; aiosqlite's per-call trace (every SQL parameter and result
row, unlabelled) stays off. SQLAlchemy is told not to show parameters (sala.store.db).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from websockets.frames import Frame

if TYPE_CHECKING:
    from sala.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "***"

MIN_LITERAL = 6
"""Shorter configured secrets are not searched for: replacing a 3-letter string everywhere
would garble every line, and a secret that short is no secret anyway."""

_KEY = (
    r"[A-Za-z0-9_.\-]*?"
    r"(?:checksum|password|passwd|pwd|pw|token|secret|session|credential|signed_parameters"
    r"|sala_room|api_?key|jwt|signature|sig)"
)
"""Names whose values are credentials: BBB's checksum, passwords (password, moderatorPW,
attendeePW), tokens (sessionToken, authToken, token), the room session (`session`, the
`sala_room` cookie), secrets (secret, apisecret, admin_secret, turn_secret), signed_parameters,
and the signatures of pre-signed URLs an integrator may give as a presentation (S3's
X-Amz-Signature and X-Amz-Credential, Azure's sig)."""

_HEADER = r"(?:set-)?cookie|(?:proxy-)?authorization|x-api-key"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A header line, as uvicorn/websockets log them: "< cookie: sala_room=...".
    (re.compile(rf"(?i)\b({_HEADER})(\s*:\s*)[^\r\n]+"), rf"\1\2{REDACTED}"),
    # Headers as tuples, as httpcore logs them: (b'Authorization', b'Bearer ...').
    (
        re.compile(rf"""(?i)(\(\s*b?['"](?:{_HEADER})['"]\s*,\s*b?)(['"])(?:\\.|(?!\2).)*\2"""),
        rf"\1\2{REDACTED}\2",
    ),
    # JSON and Python reprs: "apisecret": "...", 'authToken': '...', "pin": 1234.
    (
        re.compile(rf"""(?i)(['"]{_KEY}['"]\s*:\s*)(['"])(?:\\.|(?!\2).)*\2"""),
        rf"\1\2{REDACTED}\2",
    ),
    (re.compile(rf"""(?i)(['"]{_KEY}['"]\s*:\s*)(?!['"\s])[^,}}\]\s]+"""), rf"\1{REDACTED}"),
    # XML answers: <moderatorPW>...</moderatorPW>, <authToken><![CDATA[...]]></authToken>.
    (re.compile(rf"(?is)(<({_KEY})>).*?(</\2>)"), rf"\1{REDACTED}\3"),
    # Query strings, forms, cookies and key=value text: checksum=..., sala_room=...
    (re.compile(rf"""(?i)(?<![\w.\-])({_KEY})=[^&\s;'"<>]*"""), rf"\1={REDACTED}"),
    # Bearer tokens anywhere, JWTs anywhere (base64url JSON starts with eyJ).
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]*){0,2}"), REDACTED),
    # Passwords in URLs: postgresql://user:password@host/db.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)


class Redactor:
    """Takes the secrets out of a piece of log text."""

    def __init__(self, literals: Iterable[str] = ()) -> None:
        values = sorted({v for v in literals if v and len(v) >= MIN_LITERAL}, key=len, reverse=True)
        self._literals = re.compile("|".join(map(re.escape, values))) if values else None

    def redact(self, text: str) -> str:
        if self._literals is not None:
            text = self._literals.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line, exception and stack included."""

    def __init__(self, redactor: Redactor, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, Frame) for a in args):
            # A frame's payload is whatever the room or Janus said (chat, TURN credentials,
            # Janus' apisecret), elided in the middle so a secret may be cut where no pattern
            # finds it: only its type and size are logged.
            record = logging.makeLogRecord(record.__dict__)
            record.args = tuple(_frame_summary(a) if isinstance(a, Frame) else a for a in args)
        return self.redactor.redact(super().format(record))


def _frame_summary(frame: Frame) -> str:
    return f"{frame.opcode.name} [{len(frame.data)} bytes]"


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold: each SecretStr setting (the shared secret, coturn's
    and Janus' secrets, any added later) and database and Redis passwords."""
    values = [settings.shared_secret]
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    for url in (settings.database_url, settings.outbox_url):
        if url:
            try:
                password = make_url(url).password
            except Exception:  # a URL SQLAlchemy cannot parse fails later, with its own message
                continue
            if password:
                values.append(str(password))
    if settings.redis_url:
        password = urlsplit(settings.redis_url).password
        if password:
            values.append(password)
    return values


def setup_logging(settings: Settings) -> None:
    """The logging of a long-running sala process (`sala serve`, `sala worker`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(Redactor(configured_secrets(settings))))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Alembic narrates every plugin it loads; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosqlite's debug trace is every SQL call with its parameters and result rows: passwords
    # and tokens with nothing around them to recognise them by. It stays off even at debug.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # Python warnings and a crash's traceback go through the same redaction instead of
    # straight to stderr.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("sala").critical("uncaught exception", exc_info=(kind, value, traceback))
