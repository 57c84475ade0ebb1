"""Shared notes: one collaborative text per meeting, merged by a CRDT (Yjs).

Browsers edit a Yjs document (static/vendor/yjs.js) and send its binary updates. The room keeps
its own copy with pycrdt (Yrs, the Rust port of Yjs, which speaks the same update format): a
newcomer gets the merged state at once, the meeting log keeps every update so a restart or a
recording rebuilds the same text, and everybody else receives the update to merge. Updates
commute, so every copy ends with the same text whatever order concurrent edits arrive in.
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

MAX_TOTAL_BYTES = 4 * 1024 * 1024
"""All the updates of one meeting: the bound on the notes' memory and log. A day of typing by
a class sends far less (browsers send one merged update per pause, tens of bytes each)."""


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
        self._doc: Doc[Text] = Doc()
        self._text = self._doc.get(TEXT_NAME, type=Text)
        self.received_bytes = 0
        """What updates have added to the document so far, against MAX_TOTAL_BYTES."""

    @property
    def text(self) -> str:
        return str(self._text)

    def state(self) -> bytes:
        """The whole document as one update: what a newcomer applies to see the notes."""
        return self._doc.get_update()

    def apply(self, update: bytes) -> None:
        """Merge one update from a participant, or raise NotesError and change nothing."""
        if self.received_bytes + len(update) > MAX_TOTAL_BYTES:
            raise NotesError("full", "The shared notes have reached their size limit")
        try:
            self._doc.apply_update(update)
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            raise
        except BaseException:
            # Yrs reports undecodable input as ValueError and its own panics as PanicException,
            # a BaseException; neither may take the room (and everybody's connection) down.
            raise NotesError("invalid", "The notes update could not be decoded") from None
        self.received_bytes += len(update)

    def replay(self, encoded: str) -> None:
        """An update from the meeting log: it was accepted once, so it is merged unchecked."""
        update = base64.b64decode(encoded)
        self._doc.apply_update(update)
        self.received_bytes += len(update)
