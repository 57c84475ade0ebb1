"""Request parameters with bbb-web's parsing rules, and typed readers that never fail where it
does not.

Rules (bbb-api.md §1.1, bbb-web 3.0 ValidationService and ParamsProcessorUtil): names are
case-sensitive; the first of repeated values wins; control characters (Unicode Cc) are stripped
from names and values. bbb-web checks a few parameters on the *sanitized* value (control
characters stripped and the ends trimmed) and reads the rest as Java does: booleans with
Boolean.parseBoolean (`true` in any case, anything else false), integers with Integer.parseInt
(anything that does not parse means the default, never an error).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

from sala.api.errors import ApiError, validation_error

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_INTEGER = re.compile(r"^\d{1,18}$")
_JAVA_INTEGER = re.compile(r"[+-]?\d+")
"""What Integer.parseInt and Long.parseLong take: a sign, then decimal digits of any script
(Python's \\d, like Java's Character.digit, matches every Unicode decimal digit)."""
INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)
BOOLEAN_WORDS = frozenset({"", "true", "false", "0", "1"})
"""What bbb-web's IsBooleanValidator takes, in any case (empty: not given)."""
MAX_PARAMETERS = 10_000
"""Parameters in one query string or body: Tomcat's default maxParameterCount, which bbb-web
runs under, so no request BBB reads is refused."""


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def sanitize(text: str) -> str:
    """bbb-web's ParamsUtil.sanitizeString, the value its checks see: control characters
    stripped, then String.trim() (which, control characters gone, trims spaces)."""
    return strip_control(text).strip(" ")


def java_length(text: str) -> int:
    """String.length(): UTF-16 units, so an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def java_integer(text: str, bounds: tuple[int, int] = INT_RANGE) -> int | None:
    """Integer.parseInt (or, with LONG_RANGE, Long.parseLong); None where Java throws."""
    if not _JAVA_INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if bounds[0] <= number <= bounds[1] else None


def java_boolean(text: str) -> bool:
    """Boolean.parseBoolean."""
    return text.lower() == "true"


def groovy_boolean(text: str) -> bool:
    """Groovy's String.toBoolean(), which bbb-web uses for a few parameters."""
    trimmed = text.strip()
    return trimmed.lower() in ("true", "y") or trimmed == "1"


def is_boolean_word(text: str) -> bool:
    return sanitize(text).lower() in BOOLEAN_WORDS


class Params(Mapping[str, str]):
    """The first value of each parameter, after stripping control characters."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        self._all: dict[str, list[str]] = {}
        self.changed_by_sanitizing: set[str] = set()
        """Parameters whose first value bbb-web's sanitizing changes (control characters,
        spaces at either end): create refuses such a meeting ID."""
        for raw_name, raw_value in pairs:
            name = strip_control(raw_name)
            value = strip_control(raw_value)
            if name not in self._values and value.strip(" ") != raw_value:
                self.changed_by_sanitizing.add(name)
            self._all.setdefault(name, []).append(value)
            self._values.setdefault(name, value)

    @classmethod
    def from_query(cls, raw_query: str) -> Params:
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, max_num_fields=MAX_PARAMETERS)
        except ValueError:
            raise ApiError(
                "sizeError", f"The request carries more than {MAX_PARAMETERS} parameters"
            ) from None
        return cls(pairs)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def all_pairs(self) -> list[tuple[str, str]]:
        return [(k, v) for k, vs in self._all.items() for v in vs]

    def all_values(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._all.items()}

    def merged(self, other: Params) -> Params:
        """These parameters, then `other`'s (which lose on repeated names)."""
        return Params(self.all_pairs() + other.all_pairs())

    # --- typed readers ---------------------------------------------------------------------
    def text(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def nonempty(self, name: str) -> str | None:
        """The value, or None when absent or empty (BBB treats both as "not given")."""
        value = self._values.get(name)
        return value if value else None

    def sanitized(self, name: str) -> str | None:
        """The value as bbb-web's checks see it (see `sanitize`), or None when absent."""
        value = self._values.get(name)
        return None if value is None else sanitize(value)

    def java_boolean(self, name: str, default: bool) -> bool:
        """bbb-web's unchecked booleans: absent or empty means the default, anything else is
        Boolean.parseBoolean (so `yes` means false, even where the default is true)."""
        value = self._values.get(name)
        return default if not value else java_boolean(value)

    def java_integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        """bbb-web's integers: Integer.parseInt, and the default for anything that does not
        parse (or, with `minimum`, is below it), never an error."""
        value = self._values.get(name)
        number = None if value is None else java_integer(value)
        if number is None or (minimum is not None and number < minimum):
            return default
        return number

    def groovy_boolean(self, name: str, default: bool) -> bool:
        value = self._values.get(name)
        return default if not value else groovy_boolean(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        return value.strip().lower() == "true"

    def optional_boolean(self, name: str) -> bool | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        return value.strip().lower() == "true"

    def integer(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        value = self._values.get(name)
        if value is None or value.strip() == "":
            return default
        value = value.strip()
        if not _INTEGER.match(value):
            raise validation_error(f"Param '{name}' must be a non-negative integer")
        number = int(value)
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise validation_error(f"Param '{name}' must be {bound}")
        return number

    def csv(self, name: str) -> list[str]:
        value = self._values.get(name)
        if not value:
            return []
        return [item.strip() for item in value.split(",") if item.strip()]

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Parameters whose name starts with `prefix`, keyed by the rest of the name."""
        return {
            name[len(prefix) :]: value
            for name, value in self._values.items()
            if name.startswith(prefix) and len(name) > len(prefix)
        }


def require_length(value: str, name: str, label: str, low: int, high: int) -> str:
    if not low <= len(value) <= high:
        raise ApiError("sizeError", f"{label} must be between {low} and {high} characters")
    return value
