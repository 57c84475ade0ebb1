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
    pages: dict[PageKey, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, presentation: str, page: int, shape: dict[str, Any]) -> bool:
        shapes = self.pages.setdefault((presentation, page), [])
        if len(shapes) >= MAX_SHAPES_PER_PAGE or any(s["id"] == shape["id"] for s in shapes):
            return False
        shapes.append(shape)
        return True

    def remove(
        self, presentation: str, page: int, user: str | None, ids: Iterable[str] | None
    ) -> list[str]:
        """Remove these shapes (None: all), only `user`'s unless user is None; the removed ids."""
        shapes = self.pages.get((presentation, page), [])
        wanted = None if ids is None else set(ids)
        removed = [
            s["id"]
            for s in shapes
            if (wanted is None or s["id"] in wanted) and (user is None or s["author"] == user)
        ]
        gone = set(removed)
        self.pages[(presentation, page)] = [s for s in shapes if s["id"] not in gone]
        return removed

    def find(self, presentation: str, page: int, shape_id: str) -> dict[str, Any] | None:
        shapes = self.pages.get((presentation, page), [])
        return next((s for s in shapes if s["id"] == shape_id), None)

    def update(self, presentation: str, page: int, shape: dict[str, Any]) -> bool:
        """Replace the shape of the same id in place (its order, hence what it covers, stays);
        whether there was one."""
        shapes = self.pages.get((presentation, page), [])
        for index, found in enumerate(shapes):
            if found["id"] == shape["id"]:
                shapes[index] = shape
                return True
        return False

    def last_of(self, presentation: str, page: int, user: str) -> str | None:
        mine = [s for s in self.pages.get((presentation, page), []) if s["author"] == user]
        return mine[-1]["id"] if mine else None

    def of_presentation(self, presentation: str) -> dict[str, list[dict[str, Any]]]:
        return {
            str(pg): list(shapes)
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
