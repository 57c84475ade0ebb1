"""Dates as BBB writes them, shared by the API answers and the webhook payloads."""

from __future__ import annotations

import time

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_date(epoch_ms: int) -> str:
    """Java's Date.toString() in UTC, e.g. `Wed Mar 05 09:07:27 UTC 2025` (the Java client
    parses createDate with exactly this pattern)."""
    t = time.gmtime(epoch_ms / 1000)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year}"
    )
