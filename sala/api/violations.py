"""Which error bbb-web answers when a request breaks several of its parameter checks at once.

bbb-web 3.0 (ValidationService.buildViolationsMap) puts every violation into a
HashMap<messageKey, message> and answers the map's first entry. With the few keys validation
produces, the map keeps its 16 buckets, so "first" is the key whose String.hashCode lands in the
lowest bucket: emptyError before invalidPassword before sizeError before validationError, for
instance. Keys that share a bucket keep the order they were added in, and a key found twice keeps
its first message here (in bbb-web that order depends on a HashSet, so either could come out).
"""

from __future__ import annotations

from sala.api.errors import ApiError

_BUCKETS = 16


def _java_hash(text: str) -> int:
    """String.hashCode, over UTF-16 units."""
    h = 0
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i : i + 2], "little")) & 0xFFFFFFFF
    return h


def _bucket(key: str) -> int:
    h = _java_hash(key)
    return (h ^ (h >> 16)) & (_BUCKETS - 1)


class Violations:
    """The checks a request failed, collected in the order bbb-web declares them."""

    def __init__(self) -> None:
        self._found: dict[str, str] = {}

    def add(self, key: str, message: str) -> None:
        self._found.setdefault(key, message)

    def __bool__(self) -> bool:
        return bool(self._found)

    def first(self) -> ApiError | None:
        """The error bbb-web answers, or None when every check passed."""
        if not self._found:
            return None
        key = min(self._found, key=_bucket)  # min keeps insertion order among equal buckets
        return ApiError(key, self._found[key])

    def raise_first(self) -> None:
        error = self.first()
        if error is not None:
            raise error
