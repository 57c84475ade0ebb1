"""What `sala check` finds of Janus on this machine: the binary and its version, the plugins and
the transport sala loads, and, for what is missing, the fix on this machine's release (Debian 12
has a `janus` package, Debian 13 has none, Ubuntu's depend on the release: docs/deployment.md,
"Getting Janus")."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sala.media.janus.config import LIB_DIRS

NEEDED_PLUGINS = {
    "libjanus_audiobridge.so": "AudioBridge: the audio mix",
    "libjanus_videoroom.so": "VideoRoom: webcams and screen sharing",
    "libjanus_streaming.so": "Streaming: listen-only audio in big meetings",
    "libjanus_echotest.so": "EchoTest: the echo test before joining audio",
}
NEEDED_TRANSPORTS = {"libjanus_websockets.so": "WebSockets: how sala talks to Janus"}

OLDEST = (1, 1, 2)
"""The oldest Janus sala runs on: the VideoRoom's multistream API (1.x) and Debian 12's package,
which CI runs."""
TESTED = "1.1.2 (Debian 12's package, which CI runs) and 1.4.1 (rebuilt on Debian 13)"
DOCS = 'docs/deployment.md, section "Getting Janus"'
_VERSION = re.compile(r"Janus version:\s*\d+\s*\((\d+)\.(\d+)\.(\d+)\)")


@dataclass(frozen=True)
class Release:
    """The operating system, from /etc/os-release."""

    id: str = ""
    version_id: str = ""
    codename: str = ""
    pretty: str = "this system"


@dataclass
class JanusReport:
    """One line per finding for the operator, and the problems that make `sala check` fail."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    version: tuple[int, int, int] | None = None


def read_release(path: Path = Path("/etc/os-release")) -> Release:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return Release()
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return Release(
        id=values.get("ID", ""),
        version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME", ""),
        pretty=values.get("PRETTY_NAME", "this system"),
    )


def install_hint(release: Release) -> str:
    """The way to get a Janus sala works with on this release: a command where the release's own
    archive has a good one, else the documentation's section for it."""
    apt = "apt-get install --no-install-recommends janus janus-tools"
    if release.id == "debian" and release.version_id == "12":
        return f"as root: `{apt}` (or scripts/bootstrap)"
    if release.id == "debian":
        return (
            f"{release.pretty} has no janus package: rebuild Debian's own source package on "
            f"this machine, as {DOCS} shows step by step"
        )
    if release.id == "ubuntu" and release.version_id in ("24.04", "26.04"):
        return f"as root, with the universe component enabled: `{apt}`"
    if release.id == "ubuntu":
        return (
            f"{release.pretty}'s janus package is too old or missing: rebuild Debian's source "
            f"package, as {DOCS} shows"
        )
    return f"install Janus {'.'.join(map(str, OLDEST))} or later: {DOCS}"


def janus_version(binary: str, timeout: float = 10.0) -> tuple[int, int, int] | None:
    """The version Janus prints: `--version` exists from 1.2.3 on; older ones print the same
    banner for `-h` (Debian's 1.1.2 prints it for both, with "Unknown option" for the first)."""
    for flag in ("--version", "-h"):
        try:
            done = subprocess.run(
                [binary, flag], capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        found = _VERSION.search(done.stdout + done.stderr)
        if found:
            major, minor, patch = (int(part) for part in found.groups())
            return major, minor, patch
    return None


def inspect(
    binary: str,
    release: Release,
    lib_dirs: Sequence[Path] = LIB_DIRS,
) -> JanusReport:
    """Look for the Janus binary, its version and the plugins and transport sala loads (in the
    folders sala's Janus configuration points at: sala/media/janus/config.py)."""
    report = JanusReport()
    fix = install_hint(release)
    found = shutil.which(binary)
    if found is None:
        report.lines.append(f"janus: missing ({binary} not found)")
        report.problems.append(f"janus: not installed; on {release.pretty}: {fix}")
        return report
    version = janus_version(found)
    report.version = version
    if version is None:
        report.lines.append(f"janus: {found}, version unknown")
        report.problems.append(
            f"janus: {found} does not print its version (`janus -h`); is it Janus? {fix}"
        )
    elif version < OLDEST:
        text = ".".join(map(str, version))
        why = " (the 1.x VideoRoom API)" if version[0] < 1 else ""
        report.lines.append(f"janus: {found}, version {text} (too old)")
        report.problems.append(
            f"janus {text}: sala needs {'.'.join(map(str, OLDEST))} or later{why}; on "
            f"{release.pretty}: {fix}"
        )
    else:
        text = ".".join(map(str, version))
        note = "" if version[0] == OLDEST[0] else f" (a newer major version than tested: {TESTED})"
        report.lines.append(f"janus: ok {found}, version {text}{note}")
    lib_dir = next((d for d in lib_dirs if d.is_dir()), None)
    if lib_dir is None:
        folders = ", ".join(str(d) for d in lib_dirs)
        report.problems.append(
            f"janus: no plugin folder at {folders}; sala loads Janus' plugins from there "
            f"(Debian's and Ubuntu's packages put them there): {fix}"
        )
        return report
    for kind, needed in (("plugins", NEEDED_PLUGINS), ("transports", NEEDED_TRANSPORTS)):
        folder = lib_dir / kind
        for name, purpose in needed.items():
            if (folder / name).exists():
                report.lines.append(f"janus {kind[:-1]} {name}: ok ({purpose})")
            else:
                report.lines.append(f"janus {kind[:-1]} {name}: missing ({purpose})")
                report.problems.append(
                    f"janus: {folder / name} is missing, needed ({purpose}); reinstall "
                    f"(`apt-get install --reinstall janus`) or build Janus with it: {fix}"
                )
    return report
