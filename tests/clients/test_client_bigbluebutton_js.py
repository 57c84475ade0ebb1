"""sala driven through the npm client ``bigbluebutton-js`` 0.2.0 (Node).

``js/bigbluebutton_js_scenarios.mjs`` runs one scenario through the library and prints one JSON
document with the library's parsed answers; these tests compare them with what was sent.

What a user of that library sees (see README.md in this folder): fast-xml-parser 3 output, so
``"true"``/``"false"`` become booleans, numeric text becomes numbers (``<duration>45`` -> ``45``,
a numeric password would lose leading zeros), entities are not decoded (the inputs below avoid
XML specials for that reason), empty elements become ``""`` and ``meetings``/``recordings`` are
arrays only when non-empty. FAILED answers come back as data (``returncode``/``messageKey``), not
exceptions. Values carry ``!*()`` and spaces on purpose: the library signs
``querystring.encode`` output (``%20``, ``!*()`` left raw), which only works if the server hashes
the query string exactly as received. A ``'`` in any value cannot work with this library against
any BBB-faithful server: it is signed raw, but axios (Node's legacy ``url.parse``) sends ``%27``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.receiver import Receiver

from ._support import assert_redirects_into_room, join_error_keys, new_meeting_id

pytestmark = pytest.mark.clients

JS_DIR = Path(__file__).with_name("js")
SCRIPT = JS_DIR / "bigbluebutton_js_scenarios.mjs"
NPM_INSTALL_TIMEOUT_S = 300
SCENARIO_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "node is not installed: the bigbluebutton-js compatibility tests need Node.js >= 18"
        )
    if not (JS_DIR / "node_modules" / "bigbluebutton-js" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "node is installed but npm is not: cannot install tests/clients/js dependencies"
            )
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_INSTALL_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci in {JS_DIR} did not finish within {NPM_INSTALL_TIMEOUT_S}s")
        if done.returncode != 0:
            pytest.fail(
                f"npm ci in {JS_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
    return node


def run_scenario(node: str, live_server, scenario: str, data: dict[str, Any]) -> dict[str, Any]:
    env = {
        **os.environ,
        "BBB_URL": live_server.base_url,
        "BBB_SECRET": live_server.secret,
        "BBB_TEST_INPUT": json.dumps(data),
    }
    try:
        done = subprocess.run(
            [node, str(SCRIPT), scenario],
            cwd=JS_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"scenario {scenario!r} did not finish within {SCENARIO_TIMEOUT_S}s")
    assert done.returncode == 0, f"scenario {scenario!r} crashed:\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["scenario"] == scenario
    return report["result"]


def parsed(step: dict[str, Any]) -> dict[str, Any]:
    """What the library returned for one step; fails with the library's error if it threw."""
    assert step["ok"], f"bigbluebutton-js threw for {step['url']}: {step['error']}"
    value = step["value"]
    assert isinstance(value, dict), f"library parsed {step['url']} into {value!r}"
    return value


def failed_with(step: dict[str, Any], key: str) -> dict[str, Any]:
    value = parsed(step)
    assert (value.get("returncode"), value.get("messageKey")) == ("FAILED", key), (
        f"expected FAILED/{key} for {step['url']}, library parsed {value}"
    )
    assert value.get("message"), f"FAILED without message: {value}"
    return value


def as_list(value: Any) -> list[Any]:
    """Undo fast-xml-parser's single-child collapsing for lists the library does not normalise."""
    if value in ("", None):
        return []
    return value if isinstance(value, list) else [value]


def test_root_call(node: str, live_server) -> None:
    result = run_scenario(node, live_server, "version", {})
    for name in ("root", "rootSlash"):
        root = parsed(result[name])
        assert root["returncode"] == "SUCCESS"
        # fast-xml-parser turns "2.0" into the number 2; "1.0.0" would stay a string.
        assert (
            isinstance(root["version"], (int, float, str))
            and float(str(root["version"])[:3]) >= 0.9
        )


def test_meeting_lifecycle(node: str, live_server, http) -> None:
    meeting_id = new_meeting_id("js-life")
    meeting = {
        "meetingID": meeting_id,
        "name": "JS meeting (café) ✓ no. 7!",
        "attendeePW": "ap-js*pw",
        "moderatorPW": "mp-js(pw)",
        "welcome": "Welcome! It is *great* (really) ~ ok",  # no ' : see module docstring
        "duration": 45,
        "maxParticipants": 25,
        "meta": {"bbb-origin": "pytest-js", "Category": "Physics (A*B)!", "bbb-context": "ação ü"},
    }
    data = {
        "meeting": meeting,
        "other": {"meetingID": new_meeting_id("js-other"), "name": "JS other meeting"},
        "unknownMeetingID": new_meeting_id("js-nosuch"),
        "user": {"fullName": "Ada Lovelace", "userID": "js-user-17"},
    }
    r = run_scenario(node, live_server, "lifecycle", data)

    created = parsed(r["create"])
    assert created["returncode"] == "SUCCESS", created
    assert created["meetingID"] == meeting_id
    assert created["attendeePW"] == meeting["attendeePW"]
    assert created["moderatorPW"] == meeting["moderatorPW"]
    assert created["hasBeenForciblyEnded"] is False
    assert created.get("messageKey", "") == ""
    create_time = created["createTime"]
    assert isinstance(create_time, int) and create_time > 1_600_000_000_000
    internal_id = f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-{create_time}"
    assert created["internalMeetingID"] == internal_id

    duplicate = parsed(r["createDuplicate"])
    assert (duplicate["returncode"], duplicate["messageKey"]) == ("SUCCESS", "duplicateWarning")
    assert duplicate["createTime"] == create_time
    failed_with(r["createConflict"], "idNotUnique")
    assert parsed(r["createOther"])["returncode"] == "SUCCESS"

    for name in ("runningUnknown", "runningBefore"):  # unknown meeting is not an error
        running = parsed(r[name])
        assert (running["returncode"], running["running"]) == ("SUCCESS", False), (name, running)
    failed_with(r["infoUnknown"], "notFound")

    info = parsed(r["info"])
    assert info["returncode"] == "SUCCESS"
    assert info["meetingName"] == meeting["name"]
    assert info["meetingID"] == meeting_id
    assert info["internalMeetingID"] == internal_id
    assert info["createTime"] == create_time
    assert info["attendeePW"] == meeting["attendeePW"]
    assert info["moderatorPW"] == meeting["moderatorPW"]
    assert info["duration"] == 45
    assert info["maxUsers"] == 25
    assert info["recording"] is True
    assert info["running"] is False
    assert info["hasUserJoined"] is False
    assert info["hasBeenForciblyEnded"] is False
    assert info["participantCount"] == 0
    assert as_list(info["attendees"]) == []
    metadata = info["metadata"]
    assert isinstance(metadata, dict), f"metadata not parsed into an object: {metadata!r}"
    for key, value in meeting["meta"].items():
        assert metadata.get(key.lower()) == value, (
            f"metadata {key!r}: sent {value!r}, got {metadata}"
        )
    assert "Category" not in metadata

    joined = parsed(r["joinModerator"])
    assert (joined["returncode"], joined["messageKey"]) == ("SUCCESS", "successfullyJoined"), joined
    assert joined["meeting_id"] == internal_id
    assert joined["user_id"] and joined["auth_token"] and joined["session_token"]
    assert str(joined["url"]).startswith(("http://", "https://"))
    if "guestStatus" in joined:
        assert joined["guestStatus"] == "ALLOW"
    assert parsed(r["joinViewer"])["returncode"] == "SUCCESS"
    wrong_pw = parsed(r["joinWrongPassword"])
    assert wrong_pw["returncode"] == "FAILED"
    assert wrong_pw["messageKey"] in {"invalidPassword", "Params required"}, wrong_pw
    failed_with(r["joinUnknown"], "invalidMeetingIdentifier")

    urls = r["joinUrls"]
    assert urls["moderator"].startswith(live_server.api_url + "join?")
    assert_redirects_into_room(http, urls["moderator"])
    assert_redirects_into_room(http, urls["viewer"])
    assert join_error_keys(http, urls["unknownMeeting"]) == ["invalidMeetingIdentifier"]

    # API join registers users; nobody's browser connected, so the meeting is still not running.
    assert parsed(r["runningAfterJoin"])["running"] is False
    after_join = parsed(r["infoAfterJoin"])
    assert after_join["running"] is False
    assert as_list(after_join["attendees"]) == []

    meetings = parsed(r["meetings"])
    assert meetings["returncode"] == "SUCCESS"
    assert isinstance(meetings["meetings"], list)
    listed = {m["meetingID"]: m for m in meetings["meetings"]}
    assert meeting_id in listed and data["other"]["meetingID"] in listed, sorted(listed)
    mine = listed[meeting_id]
    assert (mine["meetingName"], mine["moderatorPW"], mine["attendeePW"]) == (
        meeting["name"],
        meeting["moderatorPW"],
        meeting["attendeePW"],
    )
    assert mine["metadata"]["bbb-origin"] == "pytest-js"
    assert listed[data["other"]["meetingID"]]["meetingName"] == "JS other meeting"

    r = run_scenario(node, live_server, "end", data)
    ended = parsed(r["end"])
    assert (ended["returncode"], ended["messageKey"]) == ("SUCCESS", "sentEndMeetingRequest")
    failed_with(r["infoAfterEnd"], "notFound")
    assert parsed(r["runningAfterEnd"])["running"] is False
    failed_with(r["endAgain"], "notFound")
    after_end = parsed(r["joinAfterEnd"])
    assert after_end["returncode"] == "FAILED"
    assert after_end["messageKey"] in {"meetingForciblyEnded", "invalidMeetingIdentifier"}, (
        after_end
    )

    # end(meetingID) without password (as the library's own test suite calls it): BBB 3.0 ignores
    # the password; 2.x / Mconf answer invalidPassword. Either is BBB-compatible.
    no_pw = parsed(r["endOtherWithoutPassword"])
    assert (no_pw["returncode"], no_pw["messageKey"]) in {
        ("SUCCESS", "sentEndMeetingRequest"),
        ("FAILED", "invalidPassword"),
    }, no_pw


def test_recordings(node: str, live_server) -> None:
    meeting_id = new_meeting_id("js-rec")
    record_id = f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-1700000000000"
    r = run_scenario(
        node, live_server, "recordings", {"meetingID": meeting_id, "recordID": record_id}
    )

    for name in ("byMeeting", "byRecordID", "byMeta", "byState"):
        value = parsed(r[name])
        assert (value["returncode"], value.get("messageKey")) == ("SUCCESS", "noRecordings"), (
            name,
            value,
        )
        # Empty <recordings/> is not normalised by the library: the user gets "" (not []).
        assert as_list(value.get("recordings")) == [], (name, value)
    everything = parsed(r["all"])
    assert everything["returncode"] == "SUCCESS"

    failed_with(r["publish"], "notFound")
    failed_with(r["unpublish"], "notFound")
    failed_with(r["delete"], "notFound")
    failed_with(r["update"], "notFound")


def test_hooks(node: str, live_server) -> None:
    token = new_meeting_id("js-hook")
    receiver = Receiver().start()  # a real loopback receiver: nothing leaves the machine
    data = {
        "meetingID": new_meeting_id("js-hook-meeting"),
        "callbackURL": receiver.url(f"/{token}") + "?src=sala-tests&x=1",
        "globalCallbackURL": receiver.url(f"/{token}/global"),
    }
    try:
        r = run_scenario(node, live_server, "hooks", data)
    finally:
        receiver.stop()

    created = parsed(r["create"])
    assert created["returncode"] == "SUCCESS", created
    hook_id = created["hookID"]
    assert hook_id not in ("", None)
    duplicate = parsed(r["createDuplicate"])
    assert duplicate["returncode"] == "SUCCESS"
    assert duplicate["hookID"] == hook_id, (
        "a second create with the same callbackURL must return the same hook"
    )
    assert duplicate.get("messageKey") == "duplicateWarning"
    global_hook = parsed(r["createGlobal"])
    assert global_hook["returncode"] == "SUCCESS" and global_hook["hookID"] != hook_id
    failed_with(r["createMissingUrl"], "missingParamCallbackURL")

    listed = parsed(r["list"])
    assert listed["returncode"] == "SUCCESS"
    hooks = {h["hookID"]: h for h in as_list(listed["hooks"]["hook"] if listed["hooks"] else "")}
    assert hook_id in hooks and global_hook["hookID"] in hooks, hooks
    assert hooks[hook_id]["callbackURL"] == data["callbackURL"]
    assert hooks[global_hook["hookID"]]["callbackURL"] == data["globalCallbackURL"]

    assert len(r["destroy"]) == 2
    for destroyed in r["destroy"]:
        value = parsed(destroyed)
        assert (value["returncode"], value["removed"]) == ("SUCCESS", True), value
    failed_with(r["destroyAgain"], "destroyMissingHook")
    after = parsed(r["listAfter"])
    remaining = {h["hookID"] for h in as_list(after["hooks"]["hook"] if after["hooks"] else "")}
    assert hook_id not in remaining and global_hook["hookID"] not in remaining


def test_wrong_secret(node: str, live_server) -> None:
    meeting_id = new_meeting_id("js-badsecret")
    r = run_scenario(
        node, live_server, "wrong-secret", {"meetingID": meeting_id, "name": "Forged meeting"}
    )
    for name in (
        "create",
        "getMeetings",
        "isMeetingRunning",
        "getMeetingInfo",
        "getRecordings",
        "join",
    ):
        failed_with(r[name], "checksumError")
    failed_with(r["infoWithGoodSecret"], "notFound")  # the forged create did nothing
    failed_with(r["hooksList"], "checksumError")
