"""sala driven through PyPI ``bbb-client`` 0.3.1 (Easter-eggs): the ``Bbb`` class and the ``bbb`` CLI.

How the library talks (see README.md in this folder): ``requests`` GET of
``<url>/<call>?<urlencode(params)>&checksum=<sha1(call + query + secret)>`` — also when the query is
empty, so getMeetings is sent as ``getMeetings?&checksum=…`` (a leading ``&``). An answer is accepted
only with a 2xx status **and** a ``Content-Type`` starting with ``text/xml`` (BBB's
``text/xml;charset=utf-8``); anything else raises ``BadResponseFromServer`` (401:
``AccessForbidden``). Bodies are parsed with ``untangle``: a ``duplicateWarning`` raises
``MeetingAlreadyExists`` even on SUCCESS, ``notFound`` raises ``MeetingDoesNotExist``,
``checksumError`` raises ``ChecksumError``, every other FAILED an ``Exception(xml)``.
``create_meeting`` returns ``True``/``False`` and swallows those (logging them at DEBUG).

What it sends: create with ``meetingID``, the optional ``name``/``moderatorPW``/``attendeePW``/
``maxParticipants``/``logoutURL``, and always ``disabledFeatures`` = every feature it knows except
the enabled ones (``captions,chat,…,cameraAsContent,timer``); join with ``fullName``, ``userID``
(= the name), ``meetingID``, ``role=MODERATOR|VIEWER`` and no password, optionally
``errorRedirectUrl``; end after a getMeetingInfo, with ``password`` = the ``moderatorPW`` read there.
``MeetingInfo`` needs ``meetingName``, ``meetingID``, ``createTime``, ``startTime``, ``endTime``,
``attendeePW``, ``moderatorPW``, ``duration``, ``participantCount``, ``maxUsers``, ``voiceBridge``
(AttributeError if one is missing) and reads ``attendees/attendee/fullName``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from bbb_client.domain.meeting_management.model import (
    Bbb,
    ChecksumError,
    Features,
    MeetingDoesNotExist,
    MeetingFilters,
)

from tests.conftest import LiveServer

from ._support import (
    RawApi,
    assert_redirects_into_room,
    join_error_keys,
    new_meeting_id,
    wait_until,
)

pytestmark = pytest.mark.clients

CLI_TIMEOUT_S = 60
ERROR_PAGE = "https://lms.example.org/bbb-error"


@pytest.fixture
def bbb(live_server: LiveServer) -> Bbb:
    # The library's documented form: the API URL without a trailing slash.
    return Bbb(live_server.api_url.rstrip("/"), live_server.secret)


@pytest.fixture
def wrong_secret_bbb(live_server: LiveServer) -> Bbb:
    return Bbb(live_server.api_url.rstrip("/"), live_server.secret + "-wrong")


def test_create_and_meeting_info(bbb: Bbb, raw_api: RawApi) -> None:
    meeting_id = new_meeting_id("bbbc-create")
    assert bbb.create_meeting(
        meeting_id,
        name="Física & <Química> ✓",
        moderator_password="mp-bbbc",
        attendee_password="ap-bbbc",
        max_participants=9,
        logout_url="https://lms.example.org/done?course=7&x=1",
        features=[Features.CHAT, Features.POLLS, Features.SCREENSHARE],
    )

    info = bbb.get_meeting_info(meeting_id)
    assert info.meetingID == meeting_id
    assert info.meetingName == "Física & <Química> ✓"
    assert (info.moderatorPW, info.attendeePW) == ("mp-bbbc", "ap-bbbc")
    # The library keeps the text despite its int annotations.
    assert (str(info.maxUsers), str(info.participantCount)) == ("9", "0")
    assert info.participants == []
    assert str(info.endTime) == "0"
    assert str(info.createTime).isdigit() and int(info.startTime) >= int(info.createTime) > 0
    assert info.voiceBridge.isdigit()
    assert raw_api.call("getMeetingInfo", meetingID=meeting_id)["internalMeetingID"]


def test_create_with_every_feature_disabled(bbb: Bbb, raw_api: RawApi) -> None:
    # The default: features=None disables all of them, layouts/cameraAsContent/timer included.
    meeting_id = new_meeting_id("bbbc-nofeat")
    assert bbb.create_meeting(meeting_id, name="Nothing enabled")
    assert raw_api.meeting_exists(meeting_id)


def test_create_twice_reports_false_but_keeps_the_meeting(bbb: Bbb) -> None:
    meeting_id = new_meeting_id("bbbc-dup")
    assert bbb.create_meeting(
        meeting_id, name="Once", moderator_password="mp1", attendee_password="ap1"
    )
    first = bbb.get_meeting_info(meeting_id)
    # duplicateWarning (SUCCESS) is turned into MeetingAlreadyExists, create_meeting answers False.
    assert bbb.create_meeting(meeting_id, name="Twice") is False
    # Different passwords: idNotUnique (FAILED), also False.
    assert (
        bbb.create_meeting(
            meeting_id, name="Other", moderator_password="x1", attendee_password="y1"
        )
        is False
    )
    again = bbb.get_meeting_info(meeting_id)
    assert (again.createTime, again.meetingName, again.moderatorPW) == (
        first.createTime,
        "Once",
        "mp1",
    )


def test_create_without_name_is_refused(bbb: Bbb, raw_api: RawApi) -> None:
    meeting_id = new_meeting_id("bbbc-noname")
    assert bbb.create_meeting(meeting_id) is False  # name is required since BBB 2.4
    assert not raw_api.meeting_exists(meeting_id)


def test_create_without_name_reports_bbbs_key(bbb: Bbb, caplog: pytest.LogCaptureFixture) -> None:
    # What the user sees of the refusal: the FAILED document, logged at DEBUG by create_meeting.
    # BBB 3.0: @NotNull on name gives nullError when it is absent (emptyError is for name=).
    with caplog.at_level(logging.DEBUG):  # the library logs under its file path's name
        assert bbb.create_meeting(new_meeting_id("bbbc-noname2")) is False
    failed = [r.getMessage() for r in caplog.records if "<returncode>FAILED" in r.getMessage()]
    assert failed, [r.getMessage() for r in caplog.records]
    assert "<messageKey>nullError</messageKey>" in failed[-1], failed[-1]


def test_get_meetings_with_voice_bridge_filter(bbb: Bbb) -> None:
    first, second = new_meeting_id("bbbc-list-a"), new_meeting_id("bbbc-list-b")
    assert bbb.create_meeting(first, name="List A")
    assert bbb.create_meeting(second, name="List B")

    everything = {m.meetingID: m for m in bbb.get_meetings()}
    assert {first, second} <= set(everything)

    bridge = everything[second].voiceBridge
    filtered = bbb.get_meetings(MeetingFilters(voiceBridge=bridge))
    assert [m.meetingID for m in filtered] == [second]


def test_join_urls_by_role(bbb: Bbb, http: httpx.Client, live_server: LiveServer) -> None:
    meeting_id = new_meeting_id("bbbc-join")
    assert bbb.create_meeting(meeting_id, name="Join by role")

    moderator = bbb.generate_join_url(meeting_id, "Ada Lovelace", moderator=True)
    assert moderator.startswith(live_server.api_url + "join?")
    assert_redirects_into_room(http, moderator)
    assert_redirects_into_room(http, bbb.generate_join_url(meeting_id, "Grace Hopper"))

    # Unknown meeting with errorRedirectUrl: the browser goes there, with BBB's errors= payload.
    unknown = bbb.generate_join_url(
        new_meeting_id("bbbc-nosuch"), "Eve", moderator=True, error_url=ERROR_PAGE
    )
    response = http.get(unknown)
    assert response.status_code == 302
    assert response.headers["location"].startswith(ERROR_PAGE + "?"), response.headers
    # BBB 3.0 names this meetingForciblyEnded (validation order), 2.x invalidMeetingIdentifier.
    assert set(join_error_keys(http, unknown)) <= {
        "invalidMeetingIdentifier",
        "meetingForciblyEnded",
    }


def test_end_meeting(bbb: Bbb, http: httpx.Client) -> None:
    meeting_id = new_meeting_id("bbbc-end")
    assert bbb.create_meeting(meeting_id, name="To be ended", moderator_password="mp-end")
    assert bbb.end_meeting(meeting_id) is True

    def gone() -> bool:
        try:
            bbb.get_meeting_info(meeting_id)
        except MeetingDoesNotExist:
            return True
        return False

    assert wait_until(gone), "getMeetingInfo still finds the meeting after end"
    with pytest.raises(MeetingDoesNotExist):
        bbb.end_meeting(meeting_id)

    late = bbb.generate_join_url(meeting_id, "Late", moderator=True, error_url=ERROR_PAGE)
    assert set(join_error_keys(http, late)) <= {"meetingForciblyEnded", "invalidMeetingIdentifier"}


def test_unknown_meeting(bbb: Bbb) -> None:
    meeting_id = new_meeting_id("bbbc-unknown")
    with pytest.raises(MeetingDoesNotExist):
        bbb.get_meeting_info(meeting_id)
    with pytest.raises(MeetingDoesNotExist):
        bbb.end_meeting(meeting_id)


def test_wrong_secret(bbb: Bbb, wrong_secret_bbb: Bbb, raw_api: RawApi) -> None:
    meeting_id = new_meeting_id("bbbc-badsecret")
    assert wrong_secret_bbb.create_meeting(meeting_id, name="Forged") is False
    assert not raw_api.meeting_exists(meeting_id)
    with pytest.raises(ChecksumError):
        wrong_secret_bbb.get_meetings()
    assert bbb.create_meeting(meeting_id, name="Real")
    with pytest.raises(ChecksumError):
        wrong_secret_bbb.get_meeting_info(meeting_id)
    with pytest.raises(ChecksumError):
        wrong_secret_bbb.end_meeting(meeting_id)
    assert bbb.get_meeting_info(meeting_id).meetingName == "Real"


# --------------------------------------------------------------------------------- the CLI --
Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(live_server: LiveServer, tmp_path: Path) -> Cli:
    """The package's ``bbb`` command, configured by BBB_API_URL / BBB_API_SECRET."""
    script = Path(sys.executable).with_name("bbb")
    command = [str(script)] if script.is_file() else [shutil.which("bbb") or "bbb"]
    env = {
        **os.environ,
        "BBB_API_URL": live_server.api_url.rstrip("/"),
        "BBB_API_SECRET": live_server.secret,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )

    return run


def test_cli_meeting_life_cycle(cli: Cli, http: httpx.Client, raw_api: RawApi) -> None:
    meeting_id = new_meeting_id("bbbc-cli")
    created = cli(
        "meetings",
        "create",
        meeting_id,
        "CLI meeting",
        "-M",
        "mp-cli",
        "-A",
        "ap-cli",
        "-P",
        "15",
        "-E",
        "chat,polls,sharedNotes",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "[OK] Meeting successfully created.", created.stdout

    listed = cli("meetings", "list")
    assert listed.returncode == 0, listed.stderr
    assert f'"CLI meeting" (meeting ID: {meeting_id})' in listed.stdout.splitlines()

    shown = cli("meetings", "show", meeting_id)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:3] == ['Name: "CLI meeting"', f"ID: {meeting_id}", "Participants: 0 ()"], lines
    bridge = raw_api.call("getMeetingInfo", meetingID=meeting_id)["voiceBridge"]
    assert lines[3] == f"Audio-conf. PIN: {bridge}"

    found = cli("meetings", "search", f"voiceBridge={bridge}")
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [f'"CLI meeting" (meeting ID: {meeting_id})']

    stats = cli("meetings", "stats")
    assert f'0 participant(s) in "{meeting_id}"' in stats.stdout.splitlines()

    join = cli("meetings", "join", meeting_id, "Ada", "--moderator")
    assert join.returncode == 0, join.stderr
    assert_redirects_into_room(http, join.stdout.strip())

    ended = cli("meetings", "end", meeting_id)
    assert ended.stdout.strip() == "[OK] Meeting successfully ended.", ended.stdout + ended.stderr
    assert wait_until(lambda: not raw_api.meeting_exists(meeting_id))
    after = cli("meetings", "show", meeting_id)
    assert after.stdout.strip() == f"[ER] Meeting '{meeting_id}' does not exist!"


def test_cli_default_create_uses_id_as_name(cli: Cli, raw_api: RawApi) -> None:
    meeting_id = new_meeting_id("bbbc-cli-noname")
    created = cli("meetings", "create", meeting_id)  # every feature disabled, name = ID
    assert created.stdout.strip() == "[OK] Meeting successfully created.", created.stdout
    assert raw_api.call("getMeetingInfo", meetingID=meeting_id)["meetingName"] == meeting_id
