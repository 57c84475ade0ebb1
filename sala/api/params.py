"""Request parameters with BBB's parsing rules, and typed readers that fail with BBB errors.

Rules (bbb-api.md §1.1): names are case-sensitive; the first of repeated values wins; ASCII
control characters are stripped from names and values; booleans are `true` (any case) or
anything else meaning false; numbers are plain non-negative integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import TypeVar
from urllib.parse import parse_qsl

from sala.api.errors import ApiError, validation_error

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"^\d{1,18}$")
MAX_PARAMETERS = 10_000
"""Parameters in one query string or body: Tomcat's default maxParameterCount, which bbb-web
runs under, so no request BBB reads is refused."""

E = TypeVar("E", bound=Enum)


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


class Params(Mapping[str, str]):
    """The first value of each parameter, after stripping control characters."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        self._all: dict[str, list[str]] = {}
        self.changed_by_sanitizing: set[str] = set()
        for raw_name, raw_value in pairs:
            name = strip_control(raw_name)
            value = strip_control(raw_value)
            if value != raw_value:
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

    def choice(self, name: str, enum: type[E], default: E) -> E:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        try:
            return enum(value.strip().upper())
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise validation_error(f"Param '{name}' must be one of {allowed}") from None

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
