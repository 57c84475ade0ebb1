"""Annotations on a meeting's slides: who drew what, on which page, in order.

The room keeps them in memory and every change in the meeting's log (`whiteboard-*` events),
which is where a room rebuilt after a restart, and recordings, read them back. Drawing counts as
activity for the inactivity rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sala.events import types

MAX_SHAPES_PER_PAGE = 5000

PageKey = tuple[str, int]


@dataclass
class Whiteboard:
    pages: dict[PageKey, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Each page's shapes by id, in drawing order (a dict keeps the order it was filled in, and
    replacing a value keeps its place): adding, finding and removing one shape does not walk the
    page, so a long meeting's log replays in time linear in its length."""

    def add(self, presentation: str, page: int, shape: dict[str, Any]) -> bool:
        shapes = self.pages.setdefault((presentation, page), {})
        if len(shapes) >= MAX_SHAPES_PER_PAGE or shape["id"] in shapes:
            return False
        shapes[shape["id"]] = shape
        return True

    def remove(
        self, presentation: str, page: int, user: str | None, ids: Iterable[str] | None
    ) -> list[str]:
        """Remove these shapes (None: all), only `user`'s unless user is None; the removed ids
        (in drawing order when all are asked for, else in the order asked)."""
        shapes = self.pages.get((presentation, page), {})
        wanted = list(shapes) if ids is None else [i for i in dict.fromkeys(ids) if i in shapes]
        removed = [i for i in wanted if user is None or shapes[i]["author"] == user]
        for shape_id in removed:
            del shapes[shape_id]
        return removed

    def find(self, presentation: str, page: int, shape_id: str) -> dict[str, Any] | None:
        return self.pages.get((presentation, page), {}).get(shape_id)

    def update(self, presentation: str, page: int, shape: dict[str, Any]) -> bool:
        """Replace the shape of the same id in place (its order, hence what it covers, stays);
        whether there was one."""
        shapes = self.pages.get((presentation, page), {})
        if shape["id"] not in shapes:
            return False
        shapes[shape["id"]] = shape
        return True

    def last_of(self, presentation: str, page: int, user: str) -> str | None:
        shapes = self.pages.get((presentation, page), {})
        return next((i for i, s in reversed(shapes.items()) if s["author"] == user), None)

    def of_presentation(self, presentation: str) -> dict[str, list[dict[str, Any]]]:
        return {
            str(pg): list(shapes.values())
            for (pid, pg), shapes in self.pages.items()
            if pid == presentation and shapes
        }

    def replay(self, kind: str, data: dict[str, Any]) -> None:
        """Apply one logged event (rebuilding after a restart)."""
        if kind == types.WHITEBOARD_ADDED:
            self.add(data["presentation"], data["page"], data["shape"])
        elif kind == types.WHITEBOARD_REMOVED:
            self.remove(data["presentation"], data["page"], None, data["ids"])
        elif kind == types.WHITEBOARD_UPDATED:
            self.update(data["presentation"], data["page"], data["shape"])
