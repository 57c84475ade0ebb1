"""`sala lti …` as an operator runs it (the `sala` entry point, in a subprocess): a platform
added by hand is listed with its deployments, refused twice or with plain-HTTP URLs, and gone
once removed; show-config and registration-url print what to paste."""

from __future__ import annotations

from pathlib import Path

from sala.lti.tool import issuer_segment, registration_key
from tests.test_cli import run

ISSUER = "https://moodle.example.edu"


def add(data_dir: Path, *extra: str) -> tuple[int, str, str]:
    result = run(
        "lti",
        "add-platform",
        "--issuer",
        ISSUER,
        "--client-id",
        "abc123",
        "--auth-login-url",
        f"{ISSUER}/mod/lti/auth.php",
        "--jwks-url",
        f"{ISSUER}/mod/lti/certs.php",
        "--auth-token-url",
        f"{ISSUER}/mod/lti/token.php",
        "--name",
        "Moodle",
        *extra,
        data_dir=data_dir,
    )
    return result.returncode, result.stdout, result.stderr


def test_add_list_and_remove_a_platform(tmp_path: Path) -> None:
    code, out, err = add(tmp_path, "--deployment", "1", "--deployment", "2")
    assert code == 0, err
    assert "added platform 1: Moodle  https://moodle.example.edu  client abc123" in out
    assert "deployments: 1, 2" in out

    again, _, err = add(tmp_path)
    assert again == 1
    assert "already registered with client id abc123" in err

    deployment = run("lti", "add-deployment", "1", "3", data_dir=tmp_path)
    assert deployment.returncode == 0, deployment.stderr
    listed = run("lti", "list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert "1  Moodle  https://moodle.example.edu  client abc123  deployments: 1, 2, 3" in (
        listed.stdout
    )
    assert "(cli, " in listed.stdout

    removed = run("lti", "remove", "1", data_dir=tmp_path)
    assert removed.returncode == 0
    assert "removed platform 1" in removed.stdout
    assert "no platforms" in run("lti", "list", data_dir=tmp_path).stdout
    missing = run("lti", "remove", "1", data_dir=tmp_path)
    assert missing.returncode == 1
    assert "no platform 1" in missing.stderr


def test_plain_http_platform_urls_are_refused(tmp_path: Path) -> None:
    result = run(
        "lti",
        "add-platform",
        "--issuer",
        "http://moodle.example.edu",
        "--client-id",
        "x",
        "--auth-login-url",
        "http://moodle.example.edu/mod/lti/auth.php",
        "--jwks-url",
        "https://moodle.example.edu/mod/lti/certs.php",
        data_dir=tmp_path,
    )
    assert result.returncode == 2
    assert "--issuer, --auth-login-url: LTI 1.3 needs HTTPS URLs" in result.stderr
    assert "no platforms" in run("lti", "list", data_dir=tmp_path).stdout


def test_show_config_and_registration_url_print_what_to_paste(tmp_path: Path) -> None:
    public = {"SALA_PUBLIC_URL": "https://sala.example.org"}
    config = run("lti", "show-config", data_dir=tmp_path, **public)
    assert config.returncode == 0
    for line in (
        "Login initiation URL (OIDC login):   https://sala.example.org/lti/login",
        "Redirect URI(s):                     https://sala.example.org/lti/launch",
        "Public keyset (JWKS) URL:            https://sala.example.org/lti/jwks",
        "Deep linking (content selection):    https://sala.example.org/lti/launch",
    ):
        assert line in config.stdout
    assert "Warning" not in config.stdout
    canvas = run("lti", "show-config", "--format", "canvas", data_dir=tmp_path, **public)
    assert '"oidc_initiation_url": "https://sala.example.org/lti/login"' in canvas.stdout

    url = run("lti", "registration-url", data_dir=tmp_path, **public)
    secret = (tmp_path / "secret").read_text().strip()
    assert url.stdout.strip() == (
        f"https://sala.example.org/lti/register/{registration_key(secret)}"
    )
    canvas = "https://canvas.instructure.com"
    for_canvas = run("lti", "registration-url", "--issuer", canvas, data_dir=tmp_path, **public)
    assert for_canvas.stdout.strip() == (
        f"https://sala.example.org/lti/register/{registration_key(secret, canvas)}/"
        f"{issuer_segment(canvas)}"
    )
