"""sala driven through PyPI ``bigbluebutton-api-python`` 0.0.11
(``from bigbluebutton_api_python import BigBlueButton``), the Python library the BBB docs list.

How the library talks (see README.md in this folder): GET via ``urllib.request.urlopen`` (follows
redirects, raises on non-2xx), SHA-1 over ``call + "k=v&..." + secret`` with ``quote_plus`` values
in dict insertion order, parses every answer with ``jxmlease`` and raises
``BBBException(messageKey, message)`` on ``FAILED`` (KeyError if either element is missing).
Only ``get_join_meeting_url`` does not fetch: the tests fetch the URL themselves, as a web app
would redirect the browser to it.

Library defects worked around here (not sala's business):
* ``create_meeting``/``get_join_meeting_url`` mutate their ``params``/``meta`` arguments (and the
  shared mutable defaults): every call gets a fresh dict.
* ``GetMeetingsResponse.get_meetings()`` crashes when the server has exactly one meeting (jxmlease
  gives a node, not a list): the getMeetings test creates two meetings first.
* ``Meeting``/``MeetingInfo`` have no getter for ``running`` or metadata: read via ``get_field``.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime, timedelta

import pytest
from bigbluebutton_api_python import BigBlueButton
from bigbluebutton_api_python.exception.bbbexception import BBBException
from bigbluebutton_api_python.parameters.bbbmodule import BBBModule

from ._support import (
    assert_redirects_into_room,
    join_error_keys,
    new_meeting_id,
    wait_until,
    xml_fields,
)

pytestmark = pytest.mark.clients

MODERATOR_PW = "mp-py-Secret"
ATTENDEE_PW = "ap-py-Secret"
# XML specials, quotes, '+', non-ASCII: quote_plus on the way in, XML escaping on the way out.
MEETING_NAME = 'Física & <Química> "101" + café ✓'
META_SENT = {
    "bbb-origin": "pytest-clients",
    "Category": "Physics & Chemistry <A+B>",  # meta names are stored lower-cased
    "bbb-context": "ação / ü 100%",
}
META_EXPECTED = {
    "bbb-origin": "pytest-clients",
    "category": "Physics & Chemistry <A+B>",
    "bbb-context": "ação / ü 100%",
}


@pytest.fixture
def bbb(live_server) -> BigBlueButton:
    return BigBlueButton(live_server.base_url, live_server.secret)


@pytest.fixture
def wrong_secret_bbb(live_server) -> BigBlueButton:
    return BigBlueButton(live_server.base_url, live_server.secret + "-wrong")


def create(bbb: BigBlueButton, meeting_id: str, name: str = "Python client meeting", **extra):
    """create_meeting with fresh argument dicts (the library mutates them)."""
    params = {"name": name, "attendeePW": ATTENDEE_PW, "moderatorPW": MODERATOR_PW, **extra}
    return bbb.create_meeting(meeting_id, params=params, meta={})


def expect_bbb_error(key: str, call, *args, **kwargs) -> BBBException:
    with pytest.raises(BBBException) as caught:
        call(*args, **kwargs)
    assert caught.value.key == key, (
        f"expected messageKey {key!r}, library reported {caught.value.key!r}: {caught.value}"
    )
    assert str(caught.value), "FAILED answer without a message"
    return caught.value


def test_root_call_reports_version(bbb: BigBlueButton) -> None:
    # The library sends GET /bigbluebutton/api/?checksum=<sha1(secret)>: a checksum to ignore.
    version = bbb.get_api_version()
    assert version.get_return_code() == "SUCCESS"
    assert re.fullmatch(r"\d+(\.\d+)+", version.get_version()), version.get_version()
    assert float(version.get_version()[:3]) >= 0.9  # Java lib parses the first three characters


def test_create_and_get_meeting_info_round_trip(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-create")
    voice_bridge = str(random.randint(70000, 79999))
    created = bbb.create_meeting(
        meeting_id,
        params={
            "name": MEETING_NAME,
            "attendeePW": ATTENDEE_PW,
            "moderatorPW": MODERATOR_PW,
            "welcome": "Welcome to <b>%%CONFNAME%%</b>!",
            "moderatorOnlyMessage": "Moderators only",
            "duration": 45,
            "record": True,  # the library sends booleans as true/false
            "autoStartRecording": False,
            "allowStartStopRecording": True,
            "maxParticipants": 25,
            "logoutURL": "https://lms.example.org/after?x=1&y=2",
            "dialNumber": "+1-555-0100",
            "voiceBridge": voice_bridge,
        },
        meta=dict(META_SENT),
    )

    assert created.get_return_code() == "SUCCESS"
    assert created.get_meetingid() == meeting_id
    assert created.get_attendee_pw() == ATTENDEE_PW
    assert created.get_moderator_pw() == MODERATOR_PW
    assert created.get_voice_bridge() == voice_bridge
    assert created.get_dial_number() == "+1-555-0100"
    assert created.has_been_forcibly_ended() is False
    # A new meeting carries an empty messageKey (BBB's template always emits the element; a client
    # reading get_message_key() to detect duplicates must not hit a KeyError).
    assert created.get_message_key() == ""
    created_at = datetime.strptime(created.get_create_time(), "%Y-%m-%d %H:%M:%S")
    assert abs(created_at - datetime.now()) < timedelta(minutes=10)
    create_time = int(created.get_field("createTime"))

    info = bbb.get_meeting_info(meeting_id)
    assert info.get_return_code() == "SUCCESS"
    meeting = info.get_meetinginfo()
    assert meeting.get_meetingid() == meeting_id
    assert meeting.get_meetingname() == MEETING_NAME
    assert meeting.get_attendeepw() == ATTENDEE_PW
    assert meeting.get_moderatorpw() == MODERATOR_PW
    assert meeting.get_voicebridge() == voice_bridge
    assert meeting.get_dialnumber() == "+1-555-0100"
    assert meeting.get_duration() == 45
    assert meeting.is_recording() is True
    assert meeting.get_max_users() == "25"
    assert meeting.get_createtime() == create_time
    # bbb-api.md §1.5: internal ID (also the future recordID) = sha1(external ID) + "-" + createTime
    expected_internal = f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-{create_time}"
    assert meeting.get_internal_meetingid() == expected_internal
    assert meeting.has_user_joined() is False
    assert meeting.has_been_forcibly_ended() is False
    assert info.get_field("running") == "false"
    assert meeting.get_participantcount() == 0
    assert meeting.get_moderator_count() == "0"
    assert meeting.get_end_time() == 0
    assert info.get_attendees() == []

    metadata = info.get_field("metadata")
    assert metadata != "", "metadata sent with create is missing from getMeetingInfo"
    received = {key: str(metadata[key]) for key in metadata}
    for key, value in META_EXPECTED.items():
        assert received.get(key) == value, (
            f"metadata {key!r}: sent {value!r}, got {received.get(key)!r}"
        )
    assert "Category" not in received, "metadata names must be lower-cased"


def test_create_without_passwords_generates_them(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-nopw")
    created = bbb.create_meeting(meeting_id, params={"name": "No passwords given"}, meta={})
    attendee_pw, moderator_pw = created.get_attendee_pw(), created.get_moderator_pw()
    assert attendee_pw and moderator_pw and attendee_pw != moderator_pw

    meeting = bbb.get_meeting_info(meeting_id).get_meetinginfo()
    assert (meeting.get_attendeepw(), meeting.get_moderatorpw()) == (attendee_pw, moderator_pw)


def test_create_is_idempotent_and_rejects_different_passwords(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-dup")
    first = create(bbb, meeting_id)
    again = create(bbb, meeting_id)
    assert again.get_return_code() == "SUCCESS"
    assert again.get_message_key() == "duplicateWarning"
    assert again.get_field("createTime") == first.get_field("createTime")
    assert again.get_field("internalMeetingID") == first.get_field("internalMeetingID")

    with pytest.raises(BBBException) as caught:
        bbb.create_meeting(
            meeting_id,
            params={"name": "Other name", "attendeePW": "other-ap", "moderatorPW": "other-mp"},
            meta={},
        )
    assert caught.value.key == "idNotUnique"


def test_join_with_redirect_false_answers_xml(bbb: BigBlueButton, http, live_server) -> None:
    meeting_id = new_meeting_id("py-join")
    internal_id = create(bbb, meeting_id).get_field("internalMeetingID")

    url = bbb.get_join_meeting_url(
        "Ada Lovelace",
        meeting_id,
        MODERATOR_PW,
        {"redirect": "false", "userID": "py-user-17", "userdata-bbb_auto_join_audio": "false"},
    )
    assert url.startswith(live_server.api_url + "join?")
    response = http.get(url)
    assert response.status_code == 200, response.text[:300]
    joined = xml_fields(response.text)
    assert joined["returncode"] == "SUCCESS", joined
    assert joined["messageKey"] == "successfullyJoined"
    assert joined["meeting_id"] == internal_id
    assert joined["user_id"] and joined["auth_token"] and joined["session_token"]
    assert joined["url"].startswith(("http://", "https://")), joined["url"]
    if "guestStatus" in joined:  # BBB always sends it; Mconf only for guest=true
        assert joined["guestStatus"] == "ALLOW"

    # Viewer via the attendee password works too.
    viewer_url = bbb.get_join_meeting_url(
        "Grace Hopper", meeting_id, ATTENDEE_PW, {"redirect": "false"}
    )
    assert xml_fields(http.get(viewer_url).text)["returncode"] == "SUCCESS"

    # API join registers the users but nobody's browser connected: not running, no attendees.
    assert bbb.is_meeting_running(meeting_id).is_meeting_running() is False
    info = bbb.get_meeting_info(meeting_id)
    assert info.get_field("running") == "false"
    assert info.get_attendees() == []


def test_join_url_redirects_into_the_room(bbb: BigBlueButton, http) -> None:
    meeting_id = new_meeting_id("py-join302")
    create(bbb, meeting_id)
    url = bbb.get_join_meeting_url("Ada Lovelace", meeting_id, MODERATOR_PW, {})
    assert_redirects_into_room(http, url)
    viewer = bbb.get_join_meeting_url("Grace Hopper", meeting_id, ATTENDEE_PW, {})
    assert_redirects_into_room(http, viewer)


def test_join_errors(bbb: BigBlueButton, wrong_secret_bbb: BigBlueButton, http) -> None:
    meeting_id = new_meeting_id("py-joinerr")
    create(bbb, meeting_id)

    wrong_pw = bbb.get_join_meeting_url("Eve", meeting_id, "not-a-password", {"redirect": "false"})
    answer = xml_fields(http.get(wrong_pw).text)
    assert answer["returncode"] == "FAILED"
    # 2.x: invalidPassword; 3.0: the literal "Params required".
    assert answer["messageKey"] in {"invalidPassword", "Params required"}, answer

    unknown_id = new_meeting_id("py-nosuch")
    unknown = bbb.get_join_meeting_url("Eve", unknown_id, MODERATOR_PW, {"redirect": "false"})
    answer = xml_fields(http.get(unknown).text)
    assert (answer["returncode"], answer["messageKey"]) == ("FAILED", "invalidMeetingIdentifier")
    unknown_redirecting = bbb.get_join_meeting_url("Eve", unknown_id, MODERATOR_PW, {})
    assert join_error_keys(http, unknown_redirecting) == ["invalidMeetingIdentifier"]

    forged = wrong_secret_bbb.get_join_meeting_url(
        "Mallory", meeting_id, MODERATOR_PW, {"redirect": "false"}
    )
    answer = xml_fields(http.get(forged).text)
    assert (answer["returncode"], answer["messageKey"]) == ("FAILED", "checksumError")


def test_is_meeting_running(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-running")
    unknown = bbb.is_meeting_running(meeting_id)  # unknown meeting is not an error
    assert unknown.get_return_code() == "SUCCESS"
    assert unknown.is_meeting_running() is False
    create(bbb, meeting_id)
    assert bbb.is_meeting_running(meeting_id).is_meeting_running() is False


def test_get_meetings_lists_created_meetings(bbb: BigBlueButton) -> None:
    first_id, second_id = new_meeting_id("py-list-a"), new_meeting_id("py-list-b")
    # Two meetings at least: the library cannot parse a list of exactly one meeting.
    create(bbb, first_id, name="List meeting A")
    bbb.create_meeting(
        second_id,
        params={"name": "List meeting B", "attendeePW": "ap-b", "moderatorPW": "mp-b"},
        meta={"bbb-origin": "list-b"},
    )

    response = bbb.get_meetings()
    assert response.get_return_code() == "SUCCESS"
    meetings = {m.get_meetingid(): m for m in response.get_meetings()}
    assert first_id in meetings and second_id in meetings, sorted(meetings)
    a, b = meetings[first_id], meetings[second_id]
    assert (a.get_meetingname(), a.get_moderatorpw(), a.get_attendeepw()) == (
        "List meeting A",
        MODERATOR_PW,
        ATTENDEE_PW,
    )
    assert (b.get_meetingname(), b.get_moderatorpw(), b.get_attendeepw()) == (
        "List meeting B",
        "mp-b",
        "ap-b",
    )
    assert b.has_been_forcibly_ended() is False and b.has_user_joined() is False

    raw_b = next(
        m for m in response.get_field("meetings")["meeting"] if m["meetingID"] == second_id
    )
    assert raw_b["metadata"]["bbb-origin"] == "list-b"
    assert raw_b["running"] == "false"


def test_end_meeting(bbb: BigBlueButton, http) -> None:
    meeting_id = new_meeting_id("py-end")
    first_create_time = int(create(bbb, meeting_id).get_field("createTime"))

    ended = bbb.end_meeting(meeting_id, MODERATOR_PW)
    assert ended.get_return_code() == "SUCCESS"
    assert ended.get_message_key() == "sentEndMeetingRequest"

    def gone() -> bool:
        try:
            bbb.get_meeting_info(meeting_id)
        except BBBException as exc:
            return exc.key == "notFound"
        return False

    assert wait_until(gone), "getMeetingInfo still finds the meeting after end"
    expect_bbb_error("notFound", bbb.get_meeting_info, meeting_id)
    assert bbb.is_meeting_running(meeting_id).is_meeting_running() is False
    expect_bbb_error("notFound", bbb.end_meeting, meeting_id, MODERATOR_PW)

    join_url = bbb.get_join_meeting_url("Late", meeting_id, MODERATOR_PW, {"redirect": "false"})
    answer = xml_fields(http.get(join_url).text)
    assert answer["returncode"] == "FAILED"
    assert answer["messageKey"] in {"meetingForciblyEnded", "invalidMeetingIdentifier"}, answer

    # Re-creating the same external ID makes a new session, not a duplicate.
    again = create(bbb, meeting_id)
    assert again.get_message_key() == ""
    assert int(again.get_field("createTime")) > first_create_time


def test_end_and_info_of_unknown_meeting(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-unknown")
    expect_bbb_error("notFound", bbb.get_meeting_info, meeting_id)
    expect_bbb_error("notFound", bbb.end_meeting, meeting_id, MODERATOR_PW)


def test_get_recordings_empty(bbb: BigBlueButton) -> None:
    meeting_id = new_meeting_id("py-rec")
    create(bbb, meeting_id, record=True)

    # The library always sends meetingID= and recordID=, empty when not given.
    by_meeting = bbb.get_recordings(meeting_id=meeting_id)
    assert by_meeting.get_return_code() == "SUCCESS"
    assert by_meeting.get_message_key() == "noRecordings"
    assert by_meeting.get_recordings() == []

    by_record = bbb.get_recordings(
        recording_id=f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-1"
    )
    assert by_record.get_return_code() == "SUCCESS"
    assert by_record.get_recordings() == []

    by_meta = bbb.get_recordings(meeting_id=meeting_id, meta={"bbb-origin": "nobody"})
    assert by_meta.get_recordings() == []

    everything = bbb.get_recordings()
    assert everything.get_return_code() == "SUCCESS"
    assert isinstance(everything.get_recordings(), list)


def test_recording_management_of_unknown_id(bbb: BigBlueButton) -> None:
    record_id = f"{hashlib.sha1(new_meeting_id('py-rid').encode()).hexdigest()}-1700000000000"
    expect_bbb_error("notFound", bbb.publish_recordings, record_id, True)
    expect_bbb_error("notFound", bbb.publish_recordings, record_id, False)
    expect_bbb_error("notFound", bbb.delete_recordings, record_id)
    expect_bbb_error("notFound", bbb.update_recordings, record_id, {"gl-listed": "false"})


def test_legacy_config_xml_calls(bbb: BigBlueButton) -> None:
    # getDefaultConfigXML: the library returns the raw body without looking at it, so a FAILED
    # answer reaches the user as if it were config.xml (library behaviour, documented).
    body = bbb.get_default_config_xml()
    answer = xml_fields(body.decode())
    assert answer["returncode"] == "FAILED"
    assert answer.get("messageKey"), answer

    # setConfigXML: POSTs a form body with a second, hand-built checksum; a FAILED answer must
    # surface as BBBException (which needs both messageKey and message).
    with pytest.raises(BBBException) as caught:
        bbb.set_config_xml(new_meeting_id("py-cfg"), "<config><x/></config>")
    assert caught.value.key and str(caught.value)


def test_wrong_secret_reports_checksum_error(
    bbb: BigBlueButton, wrong_secret_bbb: BigBlueButton
) -> None:
    meeting_id = new_meeting_id("py-badsecret")
    expect_bbb_error("checksumError", create, wrong_secret_bbb, meeting_id)
    expect_bbb_error("notFound", bbb.get_meeting_info, meeting_id)  # nothing was created

    create(bbb, meeting_id)
    expect_bbb_error("checksumError", wrong_secret_bbb.get_meetings)
    expect_bbb_error("checksumError", wrong_secret_bbb.get_meeting_info, meeting_id)
    expect_bbb_error("checksumError", wrong_secret_bbb.is_meeting_running, meeting_id)
    expect_bbb_error("checksumError", wrong_secret_bbb.get_recordings, meeting_id)
    expect_bbb_error("checksumError", wrong_secret_bbb.end_meeting, meeting_id, MODERATOR_PW)
    assert bbb.get_meeting_info(meeting_id).get_return_code() == "SUCCESS"  # not ended


@pytest.mark.xfail(
    raises=TypeError,
    strict=True,
    reason="library bug: create_meeting(slides=BBBModule) passes the XML string to "
    "urlencode(), which raises TypeError before any request is sent",
)
def test_create_with_slides_is_broken_in_library(bbb: BigBlueButton) -> None:
    slides = BBBModule()
    slides.add_slide(BBBModule.URL, "https://files.example.org/deck.pdf")
    create_params = {"name": "Slides", "attendeePW": ATTENDEE_PW, "moderatorPW": MODERATOR_PW}
    response = bbb.create_meeting(new_meeting_id("py-slides"), params=create_params, slides=slides)
    assert response.get_return_code() == "SUCCESS"
