"""sala driven through PyPI ``bbbctl`` 0.5.1: the ``BBBApiClient`` class and the ``bbbctl`` CLI.

How the library talks (see README.md in this folder): ``urllib.request.urlopen`` GET (follows
redirects, raises ``HTTPError`` on non-2xx), SHA-1 over ``call + urlencode(params) + secret``
(``quote_plus``, ``None`` values dropped before signing), ``xml.etree`` parsing; every answer whose
``returncode`` is not ``SUCCESS`` raises ``ApiError`` carrying the parsed ``<response>``. The CLI
(``python -m bbbctl``, the package's ``bbbctl`` script) reads ``BBBCTL_SERVER`` and
``BBBCTL_SECRET``, prints answers as an indented tree (``--format human``), ``compact``, ``xml``,
``json`` or ``jsonline`` (JSON with ``createTime``/``duration``/``startTime``/counts made ``int``,
``true``/``false`` made booleans, ``attendees`` a list), exits 1 with the FAILED tree on stderr.

What the CLI sends that a plain client does not: ``meeting create`` turns every option into a
create parameter (booleans only when they differ from bbbctl's idea of the default, as
``true``/``false``), ``--lock`` into ``lockSettings*=true``, ``--meta k=v`` into ``meta_k``; raw
``key=value`` arguments are sent as they are. Join links carry ``createTime`` (from the create or a
getMeetingInfo answer) and ``role`` with no password; ``meeting end`` first reads ``moderatorPW``
from getMeetingInfo and sends it as ``password``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bbbctl
import httpx
import pytest

from tests.conftest import LiveServer

from ._support import (
    RawApi,
    assert_redirects_into_room,
    new_meeting_id,
    wait_until,
    xml_fields,
)

pytestmark = pytest.mark.clients

CLI_TIMEOUT_S = 60


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def client(live_server: LiveServer) -> bbbctl.BBBApiClient:
    # Given the host only, bbbctl appends /bigbluebutton/api itself (its documented use).
    return bbbctl.BBBApiClient(live_server.base_url.split("/bigbluebutton/")[0], live_server.secret)


@pytest.fixture
def wrong_secret_client(live_server: LiveServer) -> bbbctl.BBBApiClient:
    return bbbctl.BBBApiClient(live_server.api_url, live_server.secret + "-wrong")


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(live_server: LiveServer, tmp_path: Path) -> Cli:
    """Run ``bbbctl`` as a user would, with the server and secret in its environment variables."""
    env = {
        **os.environ,
        "BBBCTL_SERVER": live_server.api_url,
        "BBBCTL_SECRET": live_server.secret,
    }

    def run(*args: str) -> CliResult:
        # cwd: bbbctl also reads ./bbbctl.conf; an empty directory keeps that out of the test.
        done = subprocess.run(
            [sys.executable, "-m", "bbbctl", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


def api_error_key(error: bbbctl.ApiError) -> str | None:
    key: str | None = error.tree.findtext("messageKey")
    return key


def test_client_adds_the_default_api_path(
    client: bbbctl.BBBApiClient, live_server: LiveServer
) -> None:
    assert client.api + "/" == live_server.api_url


def test_create_info_and_list_round_trip(client: bbbctl.BBBApiClient) -> None:
    meeting_id = new_meeting_id("ctl-create")
    created = client.createMeeting(
        meeting_id,
        "bbbctl & <friends> ✓",
        attendeePW="ap-ctl",
        moderatorPW="mp-ctl",
        record="true",
        duration="30",
        maxParticipants="12",
        welcome="Hi %%CONFNAME%%",
        meta_origin="pytest-bbbctl",
        meta_Category="A&B",
        userName=None,  # None values are dropped before signing: not sent at all
    )
    assert created.findtext("returncode") == "SUCCESS"
    assert created.findtext("meetingID") == meeting_id
    assert created.findtext("attendeePW") == "ap-ctl"
    assert created.findtext("moderatorPW") == "mp-ctl"
    create_time = created.findtext("createTime")
    assert create_time and create_time.isdigit()

    info = client.getMeetingInfo(meeting_id)
    assert info.findtext("meetingName") == "bbbctl & <friends> ✓"
    assert info.findtext("createTime") == create_time
    assert info.findtext("recording") == "true"
    assert info.findtext("duration") == "30"
    assert info.findtext("maxUsers") == "12"
    assert info.findtext("running") == "false"
    assert info.findtext("metadata/origin") == "pytest-bbbctl"
    assert info.findtext("metadata/category") == "A&B"
    assert info.find("attendees") is not None  # `meeting list --no-user` removes this element

    listed = {m.findtext("meetingID"): m for m in client.getMeetings()}
    assert meeting_id in listed, sorted(k or "" for k in listed)
    assert listed[meeting_id].findtext("moderatorPW") == "mp-ctl"


def test_join_link_with_create_time_and_role(
    client: bbbctl.BBBApiClient, http: httpx.Client
) -> None:
    meeting_id = new_meeting_id("ctl-join")
    create_time = client.createMeeting(meeting_id, "Join by role").findtext("createTime")
    assert create_time

    moderator = client.getJoinLink(meeting_id, "Ada", createTime=create_time, role="MODERATOR")
    assert_redirects_into_room(http, moderator)
    viewer = client.getJoinLink(meeting_id, "Grace", createTime=create_time, role="VIEWER")
    assert_redirects_into_room(http, viewer)

    as_xml = client.getJoinLink(
        meeting_id, "Ada", createTime=create_time, role="MODERATOR", redirect="false"
    )
    joined = xml_fields(http.get(as_xml).text)
    assert (joined["returncode"], joined["messageKey"]) == ("SUCCESS", "successfullyJoined")

    # A link for an earlier session of the same meeting ID (other createTime) is refused.
    stale = client.getJoinLink(
        meeting_id, "Ada", createTime=str(int(create_time) - 1), role="MODERATOR", redirect="false"
    )
    refused = xml_fields(http.get(stale).text)
    assert (refused["returncode"], refused["messageKey"]) == ("FAILED", "mismatchCreateTimeParam")


def test_end_with_password_from_meeting_info(client: bbbctl.BBBApiClient) -> None:
    meeting_id = new_meeting_id("ctl-end")
    client.createMeeting(meeting_id, "To be ended")
    password = client.getMeetingInfo(meeting_id).findtext("moderatorPW")
    ended = client.end(meeting_id, password=password)
    assert ended.findtext("messageKey") == "sentEndMeetingRequest"

    def gone() -> bool:
        try:
            client.getMeetingInfo(meeting_id)
        except bbbctl.ApiError as error:
            return api_error_key(error) == "notFound"
        return False

    assert wait_until(gone), "getMeetingInfo still finds the meeting after end"
    with pytest.raises(bbbctl.ApiError) as caught:
        client.end(meeting_id, password=password)
    assert api_error_key(caught.value) == "notFound"
    assert "notFound" in str(caught.value)  # ApiError renders the FAILED tree for the user


def chat_accepted_or_not_running(answer_key: str | None) -> bool:
    """sendChatMessage to a meeting nobody has entered: BBB 3.0 answers FAILED meetingNotFound
    (it needs a running meeting); sala may accept and keep the message (docs/api.md)."""
    return answer_key in {None, "", "meetingNotFound"}


def test_send_chat_message(client: bbbctl.BBBApiClient) -> None:
    meeting_id = new_meeting_id("ctl-chat")
    client.createMeeting(meeting_id, "Chat target")
    # userName=None is dropped from the request (BBB then writes as "System").
    for user_name in (None, "Ops Bot"):
        try:
            answer = client.sendChatMessage(meeting_id, "Hello from bbbctl (1/2)!", user_name)
        except bbbctl.ApiError as error:
            key = api_error_key(error)
        else:
            assert answer.findtext("returncode") == "SUCCESS"
            key = answer.findtext("messageKey")
        assert chat_accepted_or_not_running(key), key

    with pytest.raises(bbbctl.ApiError) as caught:
        client.sendChatMessage(new_meeting_id("ctl-nochat"), "nobody there")
    assert api_error_key(caught.value) in {"meetingNotFound", "notFound"}


def test_is_meeting_running_without_meeting_id(client: bbbctl.BBBApiClient) -> None:
    # bbbctl drops parameters whose value is None, e.g. an unset meeting ID in a script. BBB 3.0
    # answers SUCCESS running=false (its checks of meetingID all accept an absent value).
    answer = client.call("isMeetingRunning", meetingID=None)
    assert (answer.findtext("returncode"), answer.findtext("running")) == ("SUCCESS", "false")


@pytest.mark.parametrize(
    ("call", "bbb_key"),
    [("getMeetingInfo", "notFound"), ("end", "notFound"), ("sendChatMessage", "meetingNotFound")],
)
def test_calls_without_meeting_id(client: bbbctl.BBBApiClient, call: str, bbb_key: str) -> None:
    # bbbctl drops parameters whose value is None: a script with an unset meeting ID sends none.
    with pytest.raises(bbbctl.ApiError) as caught:
        client.call(call, meetingID=None, message="hello" if call == "sendChatMessage" else None)
    assert api_error_key(caught.value) == bbb_key


def test_recordings_of_unknown_ids(client: bbbctl.BBBApiClient) -> None:
    meeting_id = new_meeting_id("ctl-rec")
    assert client.getRecordings(meetingID=meeting_id) == []
    record_id = "0" * 40 + "-1700000000000"
    for call, kwargs in (
        (client.publishRecordings, {"recordID": record_id, "publish": "true"}),
        (client.publishRecordings, {"recordID": record_id, "publish": "false"}),
        (client.deleteRecordings, {"recordID": record_id}),
    ):
        with pytest.raises(bbbctl.ApiError) as caught:
            call(**kwargs)
        assert api_error_key(caught.value) == "notFound"


def test_wrong_secret_raises_checksum_error(
    client: bbbctl.BBBApiClient, wrong_secret_client: bbbctl.BBBApiClient, raw_api: RawApi
) -> None:
    meeting_id = new_meeting_id("ctl-badsecret")
    for call, args in (
        (wrong_secret_client.createMeeting, (meeting_id, "Forged")),
        (wrong_secret_client.getMeetings, ()),
        (wrong_secret_client.getMeetingInfo, (meeting_id,)),
        (wrong_secret_client.getRecordings, ()),
        (wrong_secret_client.end, (meeting_id,)),
    ):
        with pytest.raises(bbbctl.ApiError) as caught:
            call(*args)
        assert api_error_key(caught.value) == "checksumError", call
    assert not raw_api.meeting_exists(meeting_id)


# --------------------------------------------------------------------------------- the CLI --
def test_cli_create_with_many_options_and_join_links(
    cli: Cli, raw_api: RawApi, http: httpx.Client
) -> None:
    meeting_id = new_meeting_id("ctl-cli")
    done = cli(
        "meeting",
        "create",
        meeting_id,
        "CLI meeting",
        "maxParticipants=7",  # raw key=value parameters go out unchanged
        "meta_raw-key=raw value",
        "--record",
        "--meta",
        "origin=bbbctl-cli",
        "--lock",
        "cam,mic,chat,pm,notes,userlist,cursor",
        "--disabledFeatures",
        "polls,timer,infiniteWhiteboard,raiseHand",
        "--disabledFeaturesExclude",
        "chat",
        "--guestPolicy",
        "ASK_MODERATOR",
        "--meetingLayout",
        "VIDEO_FOCUS",
        "--no-lockSettingsLockOnJoin",
        "--lockSettingsLockOnJoinConfigurable",
        "--muteOnStart",
        "--webcamsOnlyForModerator",
        "--meetingCameraCap",
        "4",
        "--userCameraCap",
        "1",
        "--maxNumPages",
        "50",
        "--endWhenNoModerator",
        "--endWhenNoModeratorDelayInMinutes",
        "2",
        "--learningDashboardCleanupDelayInMinutes",
        "0",
        "--bannerText",
        "Exam in progress",
        "--bannerColor",
        "#FF0000",
        "--notifyRecordingIsOn",
        "--no-breakoutRoomsPrivateChatEnabled",
        "--sharedNotesEditor",
        "blockNote",
        "--presentationUploadExternalUrl",
        "https://lms.example.org/pick?meeting=%%MEETINGID%%",
        "--presentationUploadExternalDescription",
        "Pick a file from the course",
        "--groups",
        '[{"id":"g1","name":"Group A","roster":["u1","u2"]}]',
        "--join",
        "Alice",
        "--join",
        "Bob",
    )
    assert done.returncode == 0, done.stderr
    links = dict(
        line.split(": ", 1)
        for line in done.stdout.splitlines()
        if line.startswith(("Alice", "Bob"))
    )
    assert set(links) == {"Alice", "Bob"}, done.stdout
    for link in links.values():
        assert_redirects_into_room(http, link)

    info = raw_api.call("getMeetingInfo", meetingID=meeting_id)
    assert info["meetingName"] == "CLI meeting"
    assert info["maxUsers"] == "7"
    assert info["recording"] == "true"


# Values for bbbctl's free-text create options that need a shape; URLs that sala might fetch
# (presentations, manifests, settings) point at a closed loopback port.
NOWHERE = "http://127.0.0.1:9"
SHAPED_VALUES = {
    "welcome": "Welcome to %%CONFNAME%% (%%DIALNUM%%, %%CONFNUM%%)",
    "dialNumber": "+1-555-0100",
    "bannerColor": "#00FF00",
    "groups": '[{"id":"g1","name":"Group A","roster":["u1"]},{"id":"g2","roster":[]}]',
    "pluginManifests": f'[{{"url":"{NOWHERE}/plugin/manifest.json"}}]',
    "clientSettingsOverride": '{"public":{"app":{"appName":"Exam"}}}',
}


def test_cli_create_with_every_option_bbbctl_knows(cli: Cli, raw_api: RawApi) -> None:
    """Every create option of bbbctl's CLI at once, booleans flipped away from its defaults."""
    options: list[str] = []
    for name, (kind, _help) in bbbctl.CREATE_PARAMS.items():
        if name == "voiceBridge":
            options += ["--voiceBridge", str(random.randint(70000, 79999))]
        elif kind is str:
            value = SHAPED_VALUES.get(name)
            if value is None:
                value = f"{NOWHERE}/{name}" if "url" in name.lower() or name == "logo" else "text"
            options += [f"--{name}", value]
        elif isinstance(kind, list):
            options += [f"--{name}", kind[-1]]
        elif kind is int:
            options += [f"--{name}", "3"]
        else:  # a boolean whose default is `kind`
            options.append(f"--no-{name}" if kind else f"--{name}")
    meeting_id = new_meeting_id("ctl-cli-all")
    done = cli(
        "meeting",
        "create",
        meeting_id,
        "Every option",
        *options,
        "--disabledFeatures",
        ",".join(bbbctl.CREATE_FEATURES),
        "--meta",
        "origin=bbbctl-all",
    )
    assert done.returncode == 0, done.stderr
    info = raw_api.call("getMeetingInfo", meetingID=meeting_id)
    assert (info["meetingName"], info["maxUsers"], info["duration"]) == ("Every option", "3", "3")
    assert info["recording"] == "true"


def test_cli_meeting_info_list_join_and_end(cli: Cli, raw_api: RawApi, http: httpx.Client) -> None:
    meeting_id = new_meeting_id("ctl-cli2")
    assert raw_api.call("create", name="CLI life cycle", meetingID=meeting_id)["returncode"] == (
        "SUCCESS"
    )

    info = cli("--format", "json", "meeting", "info", meeting_id)
    assert info.returncode == 0, info.stderr
    document = json.loads(info.stdout)
    assert document["meetingID"] == meeting_id
    assert document["meetingName"] == "CLI life cycle"
    # bbbctl makes these int(): an element that is missing or empty would crash the CLI.
    for key in (
        "createTime",
        "duration",
        "startTime",
        "endTime",
        "participantCount",
        "listenerCount",
        "voiceParticipantCount",
        "videoCount",
        "maxUsers",
        "moderatorCount",
    ):
        assert isinstance(document[key], int), (key, document.get(key))
    assert document["attendees"] == []
    assert document["running"] is False

    human = cli("meeting", "info", meeting_id)
    assert human.returncode == 0, human.stderr
    # start/end times rendered from milliseconds: a createTime in seconds would show 1970.
    start_line = next(line for line in human.stdout.splitlines() if "startTime:" in line)
    assert "1970" not in start_line, start_line

    listed = cli("--format", "jsonline", "meeting", "list", "--sort", "createTime", "--no-user")
    assert listed.returncode == 0, listed.stderr
    meetings = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert meeting_id in [m["meetingID"] for m in meetings]
    create_times = [m["createTime"] for m in meetings]
    assert create_times == sorted(create_times)

    dry_run = cli("meeting", "nuke")  # without --doit only lists what it would end
    assert dry_run.returncode == 0, dry_run.stderr
    assert f"(dry run) id={meeting_id} " in dry_run.stdout

    joined = cli("meeting", "join", meeting_id, "Carol", "--mod")
    assert joined.returncode == 0, joined.stderr
    assert_redirects_into_room(http, joined.stdout.strip())

    chat = cli("meeting", "chat", meeting_id, "Maintenance in 5 minutes", "--name", "Admin")
    # Nobody is in the room: BBB 3.0 refuses with meetingNotFound, sala may accept.
    assert chat.returncode == 0 or "meetingNotFound" in chat.stderr, chat.stderr

    ended = cli("meeting", "end", meeting_id)
    assert ended.returncode == 0, ended.stderr
    assert wait_until(lambda: not raw_api.meeting_exists(meeting_id))

    after = cli("meeting", "info", meeting_id)
    assert after.returncode == 1
    assert "notFound" in after.stderr, after.stderr


def test_cli_records_and_sign(cli: Cli, live_server: LiveServer, http: httpx.Client) -> None:
    listed = cli("record", "list", "--meeting", new_meeting_id("ctl-cli-rec"))
    assert (listed.returncode, listed.stdout.strip()) == (0, "")

    publish = cli("record", "publish", "0" * 40 + "-1700000000000")
    assert publish.returncode == 1
    assert "notFound" in publish.stderr

    signed = cli("sign", "getMeetings")
    assert signed.returncode == 0, signed.stderr
    url = signed.stdout.strip()
    assert url.startswith(live_server.api_url + "getMeetings?checksum=")
    answer = ET.fromstring(http.get(url).text)
    assert answer.findtext("returncode") == "SUCCESS"

    signed_info = cli("sign", "isMeetingRunning", "meetingID=nobody-here")
    answer = ET.fromstring(http.get(signed_info.stdout.strip()).text)
    assert (answer.findtext("returncode"), answer.findtext("running")) == ("SUCCESS", "false")


def test_cli_wrong_secret(live_server: LiveServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BBBCTL_SERVER": live_server.api_url,
        "BBBCTL_SECRET": live_server.secret + "-wrong",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bbbctl", "meeting", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert done.returncode == 1
    assert "checksumError" in done.stderr, done.stderr
