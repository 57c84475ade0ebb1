"""Checksums as BBB computes them (bbb-api.md §1.3): the API's, and the webhooks' and callbacks'
(events/fanout.py), which is why this sits below both `api/` and `events/`.

checksum = hex(H(call name + query string without the checksum + shared secret)), where H is
picked by the length of the checksum sent. The query string is taken exactly as received: clients
hash the bytes they send, so re-encoding or re-ordering would break them. The checksum parameter
is cut out structurally (by '&'-separated field), never with a pattern built from user input.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import quote_plus

ALGORITHM_BY_LENGTH = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}


def split_checksum(raw_query: str) -> tuple[str, str | None]:
    """(query string without the first checksum field, that checksum's value or None)."""
    fields = raw_query.split("&")
    for index, field in enumerate(fields):
        key, _, value = field.partition("=")
        if key == "checksum":
            return "&".join(fields[:index] + fields[index + 1 :]), value
    return raw_query, None


def compute(call: str, query: str, secret: str, algorithm: str) -> str:
    return hashlib.new(algorithm, (call + query + secret).encode("utf-8")).hexdigest()


def matching(
    call: str,
    candidates: Sequence[str],
    supplied: str,
    secret: str,
    accepted: frozenset[str],
) -> int | None:
    """The index of the candidate string `supplied` is the checksum of (by an accepted
    algorithm), or None. The caller acts only on the parameters that candidate covers."""
    algorithm = ALGORITHM_BY_LENGTH.get(len(supplied))
    if algorithm is None or algorithm not in accepted:
        return None
    supplied_bytes = supplied.lower().encode("ascii", "replace")
    found: int | None = None
    for index, query in enumerate(candidates):
        expected = compute(call, query, secret, algorithm).encode("ascii")
        # Every candidate is compared, so timing does not reveal which one matched.
        if hmac.compare_digest(expected, supplied_bytes) and found is None:
            found = index
    return found


def matches(
    call: str,
    candidates: Sequence[str],
    supplied: str,
    secret: str,
    accepted: frozenset[str],
) -> bool:
    """True if `supplied` is the checksum of any candidate string, by an accepted algorithm."""
    return matching(call, candidates, supplied, secret, accepted) is not None


def canonical_form_string(params: Mapping[str, list[str]]) -> str:
    """The string bbb-web hashes for a POST whose parameters are all in the body.

    Keys sorted by UTF-16 code unit (Java's TreeSet), values in received order, each encoded
    like Java's URLEncoder (space as '+', '*' kept, '~' escaped).
    """
    parts = []
    for key in sorted(params, key=lambda k: k.encode("utf-16-be")):
        if key == "checksum":
            continue
        for value in params[key]:
            encoded = quote_plus(value, safe="*").replace("~", "%7E")
            parts.append(f"{key}={encoded}")
    return "&".join(parts)
