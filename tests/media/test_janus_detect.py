"""`sala check` on Janus: the binary, its version, the plugins and transport sala loads, and the
fix it names for the machine's release. Fake binaries and plugin folders exercise sala's own
detection; the last tests look at the real Janus installed here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sala.media.janus.detect import (
    NEEDED_PLUGINS,
    NEEDED_TRANSPORTS,
    OLDEST,
    Release,
    inspect,
    read_release,
)
from tests.test_cli import run

BOOKWORM = Release("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)")
TRIXIE = Release("debian", "13", "trixie", "Debian GNU/Linux 13 (trixie)")
JAMMY = Release("ubuntu", "22.04", "jammy", "Ubuntu 22.04.5 LTS")
NOBLE = Release("ubuntu", "24.04", "noble", "Ubuntu 24.04.3 LTS")


def fake_janus(folder: Path, version: str, *, knows_version_flag: bool = True) -> Path:
    """A script answering as Janus does: the banner on `--version` (1.2.3 and later) and on
    `-h`; older ones say "Unknown option" to the first."""
    banner = f'echo "Janus version: {version.replace(".", "")} ({version})"; echo "Janus commit: x"'
    unknown = "" if knows_version_flag else 'echo "Unknown option --version" >&2; '
    script = folder / "janus"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then {unknown}{banner}; exit 0; fi\n'
        f'if [ "$1" = "-h" ]; then {banner}; echo "Usage: janus [OPTION]..."; exit 0; fi\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    return script


def lib_dir(root: Path, *, without: tuple[str, ...] = ()) -> Path:
    """A Janus library folder like Debian's, with every plugin and transport sala loads except
    `without`, and some it does not load."""
    for kind, names in (("plugins", NEEDED_PLUGINS), ("transports", NEEDED_TRANSPORTS)):
        (root / kind).mkdir(parents=True)
        for name in [*names, "libjanus_sip.so"]:
            if name not in without:
                (root / kind / name).write_bytes(b"\x7fELF")
    return root


def test_a_complete_janus_passes_and_every_part_is_listed(tmp_path: Path) -> None:
    binary = fake_janus(tmp_path, "1.4.1")
    report = inspect(str(binary), TRIXIE, [tmp_path / "absent", lib_dir(tmp_path / "lib")])
    assert report.problems == []
    assert report.version == (1, 4, 1)
    assert report.lines[0] == f"janus: ok {binary}, version 1.4.1"
    for name in [*NEEDED_PLUGINS, *NEEDED_TRANSPORTS]:
        assert any(line.startswith("janus ") and f"{name}: ok" in line for line in report.lines)


def test_the_version_comes_from_h_when_janus_has_no_version_flag(tmp_path: Path) -> None:
    binary = fake_janus(tmp_path, "1.1.2", knows_version_flag=False)
    report = inspect(str(binary), BOOKWORM, [lib_dir(tmp_path / "lib")])
    assert report.version == (1, 1, 2)
    assert report.problems == []


def test_a_missing_plugin_is_named_with_its_path_and_the_fix(tmp_path: Path) -> None:
    binary = fake_janus(tmp_path, "1.1.2")
    lib = lib_dir(tmp_path / "lib", without=("libjanus_streaming.so", "libjanus_websockets.so"))
    report = inspect(str(binary), BOOKWORM, [lib])
    assert len(report.problems) == 2
    streaming, websockets = report.problems
    assert str(lib / "plugins" / "libjanus_streaming.so") in streaming
    assert "Streaming" in streaming and "apt-get install --reinstall janus" in streaming
    assert str(lib / "transports" / "libjanus_websockets.so") in websockets
    assert "janus plugin libjanus_streaming.so: missing (Streaming" in "\n".join(report.lines)


def test_no_plugin_folder_at_all_names_where_sala_looks(tmp_path: Path) -> None:
    binary = fake_janus(tmp_path, "1.1.2")
    report = inspect(str(binary), BOOKWORM, [tmp_path / "nowhere"])
    assert len(report.problems) == 1
    assert str(tmp_path / "nowhere") in report.problems[0]


def test_janus_0_x_is_refused_with_the_fix_for_the_release(tmp_path: Path) -> None:
    # Ubuntu 22.04's package: the old VideoRoom API, which sala does not speak.
    binary = fake_janus(tmp_path, "0.11.8", knows_version_flag=False)
    report = inspect(str(binary), JAMMY, [lib_dir(tmp_path / "lib")])
    assert report.version == (0, 11, 8)
    (problem,) = report.problems
    assert "janus 0.11.8" in problem and "1.1.2 or later" in problem
    assert "Ubuntu 22.04.5 LTS" in problem and 'section "Getting Janus"' in problem


def test_an_early_1_x_is_too_old_and_a_new_major_version_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    lib = lib_dir(tmp_path / "lib")
    early = inspect(str(fake_janus(tmp_path / "a", "1.0.1")), BOOKWORM, [lib])
    (problem,) = early.problems
    assert problem.startswith("janus 1.0.1: sala needs 1.1.2 or later; on Debian GNU/Linux 12")
    later = inspect(str(fake_janus(tmp_path / "b", "2.0.0")), TRIXIE, [lib])
    assert later.problems == []
    assert "version 2.0.0 (a newer major version than tested: 1.1.2" in later.lines[0]


@pytest.mark.parametrize(
    ("release", "fix"),
    [
        (BOOKWORM, "`apt-get install --no-install-recommends janus janus-tools`"),
        (TRIXIE, "Debian GNU/Linux 13 (trixie) has no janus package: rebuild Debian's own"),
        (NOBLE, "universe component enabled: `apt-get install --no-install-recommends janus"),
        (JAMMY, "too old or missing: rebuild Debian's source package"),
        (Release(), 'Janus 1.1.2 or later: docs/deployment.md, section "Getting Janus"'),
    ],
)
def test_a_missing_janus_gets_the_fix_for_its_release(
    tmp_path: Path, release: Release, fix: str
) -> None:
    report = inspect(str(tmp_path / "no-janus"), release, [lib_dir(tmp_path / "lib")])
    assert report.lines == [f"janus: missing ({tmp_path / 'no-janus'} not found)"]
    (problem,) = report.problems
    assert fix in problem


def test_a_binary_that_is_not_janus_is_reported(tmp_path: Path) -> None:
    impostor = tmp_path / "janus"
    impostor.write_text("#!/bin/sh\necho hello\n")
    impostor.chmod(0o755)
    report = inspect(str(impostor), BOOKWORM, [lib_dir(tmp_path / "lib")])
    assert report.version is None
    assert "does not print its version" in report.problems[0]


def test_os_release_is_read_as_the_shell_would(tmp_path: Path) -> None:
    path = tmp_path / "os-release"
    path.write_text(
        'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n'
    )
    assert read_release(path) == TRIXIE
    assert read_release(tmp_path / "absent") == Release()


def test_sala_check_fails_on_an_old_janus_and_prints_the_fix(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    binary = fake_janus(tmp_path / "bin", "0.11.8", knows_version_flag=False)
    checked = run("check", data_dir=tmp_path / "data", SALA_JANUS_BINARY=str(binary))
    assert checked.returncode == 1
    assert f"janus: {binary}, version 0.11.8 (too old)" in checked.stdout
    assert "janus 0.11.8: sala needs 1.1.2 or later" in checked.stderr
    # A machine that runs no Janus itself is not failed for it.
    front_end = run(
        "check",
        data_dir=tmp_path / "data",
        SALA_JANUS_BINARY=str(binary),
        SALA_JANUS_URL="ws://10.0.0.5:8188",
    )
    assert front_end.returncode == 0, front_end.stderr
    assert "janus: not needed on this machine (an external Janus (janus_url))" in front_end.stdout


def test_the_real_janus_here_has_everything_sala_needs() -> None:
    if shutil.which("janus") is None:
        pytest.fail("Janus is needed: run scripts/install-test-deps (Debian package janus)")
    report = inspect("janus", read_release())
    assert report.problems == []
    assert report.version is not None and report.version >= OLDEST
    assert sum(": ok (" in line for line in report.lines) == len(NEEDED_PLUGINS) + 1


def test_sala_check_reports_the_real_janus(tmp_path: Path) -> None:
    checked = run("check", "--role", "media", data_dir=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "janus: ok " in checked.stdout
    assert "janus plugin libjanus_videoroom.so: ok (VideoRoom" in checked.stdout
