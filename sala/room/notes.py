"""Shared notes: one collaborative text per meeting, merged by a CRDT (Yjs).

Browsers edit a Yjs document (client/src/features/notes/) and send its binary updates. The room
keeps its own copy with pycrdt (Yrs, the Rust port of Yjs, which speaks the same update format): a
newcomer gets the merged state at once, the meeting log keeps every update so a restart or a
recording rebuilds the same text, and everybody else receives the update to merge. Updates
commute, so every copy ends with the same text whatever order concurrent edits arrive in.

The size budget counts the document as it is now, not the updates ever received: Yrs drops the
content of deleted text and keeps small tombstones (measured: 1 MiB inserted then deleted leaves
a state of about 40 bytes), so deleting text gives its space back, and a newcomer is sent that
compact state, never the history. A reset starts a new, empty document (a new `generation`):
only that frees the tombstones too. The room's side (who may edit, how fast, the log) is
room/notes_room.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from pycrdt import Doc, Text

TEXT_NAME = "notes"
"""The Y.Text inside the document that holds the notes; browsers use the same name."""

MAX_UPDATE_BYTES = 16 * 1024
"""One update, decoded (base64 makes it fit a room message of 32 KiB)."""

MAX_TOTAL_BYTES = 1024 * 1024
"""The document as it is now (its compact state, what every newcomer is sent): about 500 pages
of text. It bounds the notes' memory and each newcomer's welcome (1.4 MB in base64); it was
4 MiB, which made every welcome 5.8 MB once a viewer had filled it."""


class NotesError(ValueError):
    """An update the notes refuse; `code` is the room protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def decode_update(encoded: str) -> bytes:
    try:
        update = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NotesError("invalid", "The notes update is not base64") from None
    if not update:
        raise NotesError("invalid", "The notes update is empty")
    if len(update) > MAX_UPDATE_BYTES:
        raise NotesError("too_large", f"A notes update is limited to {MAX_UPDATE_BYTES} bytes")
    return update


def encode_update(update: bytes) -> str:
    return base64.b64encode(update).decode("ascii")


class SharedNotes:
    def __init__(self) -> None:
        self.generation = 0
        """How many times the notes were reset: edits made on an older document are refused."""
        self._start()

    def _start(self) -> None:
        self._doc: Doc[Text] = Doc()
        self._text = self._doc.get(TEXT_NAME, type=Text)
        self._state: bytes | None = None
        self._encoded: str | None = None
        self._measured = 0
        """The compact state's size when last encoded."""
        self._unmeasured = 0
        """Bytes merged since: an update adds at most about its own size to the state, so
        `_measured + _unmeasured` bounds the size without encoding the document each time."""

    @property
    def text(self) -> str:
        return str(self._text)

    def state(self) -> bytes:
        """The whole document as one update: what a newcomer applies to see the notes. Deleted
        text is not in it (only its tombstones); it is encoded again only after a change."""
        if self._state is None:
            self._state = self._doc.get_update()
            self._measured = len(self._state)
            self._unmeasured = 0
        return self._state

    def encoded_state(self) -> str:
        """`state()` in base64, as the room protocol carries it (kept for the next newcomer)."""
        if self._encoded is None:
            self._encoded = encode_update(self.state())
        return self._encoded

    def apply(self, update: bytes) -> None:
        """Merge one update from a participant, or raise NotesError and change nothing."""
        if self._measured + self._unmeasured + len(update) > MAX_TOTAL_BYTES:
            # Maybe full: measure what the document takes now (deleted text no longer counts).
            self.state()
            if self._measured + len(update) > MAX_TOTAL_BYTES:
                raise NotesError("full", "The shared notes have reached their size limit")
        try:
            self._doc.apply_update(update)
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            raise
        except BaseException:
            # Yrs reports undecodable input as ValueError and its own panics as PanicException,
            # a BaseException; neither may take the room (and everybody's connection) down.
            raise NotesError("invalid", "The notes update could not be decoded") from None
        self._changed(len(update))

    def replay(self, update: bytes) -> None:
        """An update from the meeting log: it was accepted once, so it is merged unchecked."""
        self._doc.apply_update(update)
        self._changed(len(update))

    def reset(self, generation: int | None = None) -> None:
        """A new, empty document (a moderator's `notes.reset`, or its event replayed)."""
        self.generation = self.generation + 1 if generation is None else generation
        self._start()

    def restore(self, snapshot: bytes, generation: int) -> None:
        """The document a snapshot in the log holds (room/notes_room.py writes them)."""
        self.reset(generation)
        self.replay(snapshot)

    def _changed(self, size: int) -> None:
        self._state = None
        self._encoded = None
        self._unmeasured += size
