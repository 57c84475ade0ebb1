"""scripts/bootstrap on a release without a janus package (Debian 13): a clear message and the
other packages, instead of a failed apt-get install. apt-cache and dpkg-query are stand-ins here
that answer as they do on such a release; `--packages` stops before anything is installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def stand_in(folder: Path, name: str, body: str) -> None:
    script = folder / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)


def bootstrap_packages(tmp_path: Path, janus_candidate: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Nothing is installed yet; apt knows every package but janus.
    stand_in(bin_dir, "dpkg-query", "exit 1\n")
    stand_in(
        bin_dir,
        "apt-cache",
        f'if [ "$2" = janus ]; then c="{janus_candidate}"; else c=1.0-1; fi\n'
        'printf "%s:\\n  Installed: (none)\\n  Candidate: %s\\n" "$2" "$c"\n',
    )
    return subprocess.run(
        [str(ROOT / "scripts" / "bootstrap"), "--packages"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        timeout=60,
    )


def missing(result: subprocess.CompletedProcess[str]) -> list[str]:
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("bootstrap: missing")]
    return line.split(":", 1)[1].split()


@pytest.mark.skipif(
    not list(Path("/var/lib/apt/lists").glob("*_Packages*")), reason="no apt package lists"
)
def test_a_release_without_janus_gets_a_message_and_the_other_packages(tmp_path: Path) -> None:
    result = bootstrap_packages(tmp_path, "(none)")
    assert result.returncode == 0, result.stderr
    assert "has no janus package, so sala will run without audio and video" in result.stderr
    assert '"Getting Janus"' in result.stderr
    assert "janus" not in missing(result) and "janus-tools" not in missing(result)
    assert "ffmpeg" in missing(result)


def test_a_release_with_janus_installs_it(tmp_path: Path) -> None:
    result = bootstrap_packages(tmp_path, "1.1.2-1")
    assert result.returncode == 0, result.stderr
    assert "janus" in missing(result) and "janus-tools" in missing(result)
    assert "no janus package" not in result.stderr
