"""Who may read what sala keeps on disk: the modes of the data directory and its files.

The data directory holds the generated shared secret, the databases (meeting passwords, join and
room tokens, hooks' authTokens), presentations, captions, recordings and Janus' configuration
(its admin secret). All of it is for sala's own user: directories sala creates are 0700 and files
0600, whatever the umask. A umask only ever removes bits, so each is created with that mode and
then set to it exactly (chmod/fchmod), never via the process umask, which other threads share.

SQLite is given its database file already created 0600: SQLite makes the file 0644 (less the
umask) itself, but gives its `-wal`, `-shm` and `-journal` side files the database file's own
mode, setting it explicitly. So one pre-created file makes all of them private.

Installs made before this (0755 directory, 0644 databases) are tightened when `sala serve` or
`sala worker` starts, with one warning naming what changed; `sala check` reports the modes and
counts anything others can read as a problem. Everything that reads or writes these files (sala,
its worker, the Janus, LibreOffice, pdftoppm and ffmpeg it starts) runs as the same user.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from sala.config import Settings

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OTHERS = 0o077
"""Group and world permission bits: none of them belongs on sala's data."""

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
DATA_SUBDIRS = ("presentations", "recordings", "captions", "janus", "log")
"""What sala creates in the data directory (recordings: unless SALA_RECORDINGS_DIR is set)."""


def private_dir(path: Path) -> None:
    """Create the directory 0700 if it is missing (missing parents get the ordinary mode: they
    are the operator's, like ~/.local/share). An existing one is left as it is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        return  # made at the same moment by the other sala process, which set its mode
    os.chmod(path, PRIVATE_DIR)


def private_file(path: Path) -> bool:
    """Create the file empty and 0600 if it is missing; True when this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def sqlite_file(url: str) -> Path | None:
    """The file behind an SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@dataclass(frozen=True)
class Guarded:
    """What sala keeps private: directories and files (those that exist are checked)."""

    dirs: list[Path]
    files: list[Path]


def guarded(settings: Settings) -> Guarded:
    data = settings.data_dir
    dirs = [data, *(data / name for name in DATA_SUBDIRS)]
    files = [data / "secret"]
    for url in dict.fromkeys((settings.sqlalchemy_url, settings.outbox_sqlalchemy_url)):
        db = sqlite_file(url)
        if db is not None:
            files += [db, *(db.with_name(db.name + suffix) for suffix in SQLITE_SIDE_FILES)]
    return Guarded(dirs, files)


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def prepare_data_dir(settings: Settings) -> list[str]:
    """At start: the data directory and its directories exist and are 0700, and whatever an
    older sala left readable by others is tightened. Returns what was tightened (and logs it
    in one warning)."""
    # Made here rather than where they are first used, so that each is 0700 from the start.
    private_dir(settings.data_dir)
    private_dir(settings.data_dir / "presentations")
    private_dir(settings.data_dir / "captions")
    if settings.media and not settings.janus_url:
        private_dir(settings.data_dir / "janus")
        private_dir(settings.data_dir / "log")
    # A recordings directory elsewhere is the operator's: created private when missing, left as
    # it is when it exists (an external Janus may write into it as another user).
    private_dir(settings.recordings_root)
    tightened: list[str] = []
    refused: list[str] = []
    where = guarded(settings)
    for path in [*where.dirs, *where.files]:
        mode = _mode(path)
        if mode is None or not mode & OTHERS:
            continue
        try:
            os.chmod(path, mode & ~OTHERS)
        except OSError as exc:  # not sala's own file (a shared mount): say so, keep serving
            refused.append(f"{path} ({mode:04o}: {exc.strerror})")
            continue
        tightened.append(f"{path} ({mode:04o} -> {mode & ~OTHERS:04o})")
    if tightened:
        log.warning(
            "sala's data was readable by other users; now only by its own: %s",
            ", ".join(tightened),
        )
    if refused:
        log.warning(
            "sala's data is readable by other users and sala cannot change it: %s",
            ", ".join(refused),
        )
    return tightened


def audit(settings: Settings) -> tuple[list[str], list[str]]:
    """For `sala check`: a line per existing guarded path with its mode, and a problem for each
    one that others can read, write or enter."""
    lines: list[str] = []
    problems: list[str] = []
    where = guarded(settings)
    for path in [*where.dirs, *where.files]:
        mode = _mode(path)
        if mode is None:
            continue
        if mode & OTHERS:
            want = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
            lines.append(f"permissions: {path} {mode:04o} (others can read it)")
            problems.append(
                f"permissions: {path} is {mode:04o}, open to other users; `sala serve` makes it "
                f"{mode & ~OTHERS:04o} on start (or: chmod {want:o} {path})"
            )
        else:
            lines.append(f"permissions: {path} {mode:04o} ok")
    recordings = settings.recordings_root
    mode = _mode(recordings)
    if recordings.parent != settings.data_dir and mode is not None and mode & OTHERS:
        lines.append(
            f"permissions: {recordings} {mode:04o} (recordings; other users can read them: "
            "intended only if an external Janus writes there as another user)"
        )
    return lines, problems
