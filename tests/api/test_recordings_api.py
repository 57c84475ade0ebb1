"""getRecordings filters and the publish/delete/update calls, over a catalogue seeded directly.

The pipeline that produces recordings comes later; these tests put rows where it will put them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import insert

from sala.store import tables
from tests.conftest import Api
from tests.xmlutil import failed, field, success


def record_id(external_id: str, create_time: int) -> str:
    return f"{hashlib.sha1(external_id.encode()).hexdigest()}-{create_time}"


async def seed(api: Api, external_id: str, create_time: int, **overrides: Any) -> str:
    rid = record_id(external_id, create_time)
    values: dict[str, Any] = {
        "record_id": rid,
        "meeting_id": external_id,
        "internal_meeting_id": rid,
        "name": f"Class {external_id}",
        "is_breakout": False,
        "state": "published",
        "start_time": create_time,
        "end_time": create_time + 3_600_000,
        "participants": 3,
        "raw_size": 1000,
        "size": 500,
        "metadata": {"bbb-origin": "Moodle", "course": "physics-101"},
        "formats": [
            {
                "type": "presentation",
                "url": f"https://sala.test/playback/presentation/2.3/{rid}",
                "processing_time": 4100,
                "length_ms": 3_600_000,
                "size": 500,
                "preview": [{"url": "https://sala.test/thumb-1.png", "alt": "Slide 1"}],
            }
        ],
        "text_tracks": [],
    }
    values.update(overrides)
    async with api.services.db.write() as conn:
        await conn.execute(insert(tables.recordings).values(**values))
    return rid


def ids(root: Any) -> list[str]:
    return [r.findtext("recordID") for r in root.iter("recording")]


async def test_empty_catalogue_is_success_with_no_recordings(api: Api) -> None:
    root = success(await api.get("getRecordings", {"meetingID": "nothing-here"}))
    assert field(root, "messageKey") == "noRecordings"
    assert root.find("recordings") is not None


async def test_recording_xml_shape(api: Api) -> None:
    rid = await seed(api, "room-a", 1_000)
    root = success(await api.get("getRecordings", {"meetingID": "room-a"}))
    rec = root.find("recordings/recording")
    assert rec is not None
    assert [child.tag for child in rec] == [
        "recordID",
        "meetingID",
        "internalMeetingID",
        "name",
        "isBreakout",
        "published",
        "protected",  # Scalelite's, read by Greenlight v3 (tests/recordings/test_protected.py)
        "state",
        "startTime",
        "endTime",
        "participants",
        "rawSize",
        "metadata",
        "size",
        "playback",
        "data",
    ]
    assert rec.findtext("recordID") == rid
    assert rec.findtext("published") == "true"
    assert rec.findtext("metadata/course") == "physics-101"
    fmt = rec.find("playback/format")
    assert fmt is not None
    assert fmt.findtext("type") == "presentation"
    assert fmt.findtext("length") == "60"
    assert fmt.findtext("processingTime") == "4100"
    assert fmt.findtext("preview/images/image") == "https://sala.test/thumb-1.png"
    image = fmt.find("preview/images/image")
    assert image is not None
    assert (image.get("width"), image.get("height"), image.get("alt")) == ("176", "136", "Slide 1")


async def test_filters(api: Api) -> None:
    a1 = await seed(api, "room-a", 1_000)
    a2 = await seed(api, "room-a", 2_000, state="unpublished", metadata={"course": "chem-2"})
    b1 = await seed(api, "room-b", 3_000)
    await seed(api, "room-c", 4_000, state="deleted")

    by_meeting = success(await api.get("getRecordings", {"meetingID": "room-a,room-b"}))
    assert ids(by_meeting) == [a1, a2, b1]
    prefix = success(await api.get("getRecordings", {"recordID": a1.split("-")[0]}))
    assert ids(prefix) == [a1, a2]
    published = success(await api.get("getRecordings", {"state": "published"}))
    assert ids(published) == [a1, b1]
    everything = success(await api.get("getRecordings", {"state": "any"}))
    assert len(ids(everything)) == 4
    meta = success(await api.get("getRecordings", {"meta_course": "phys%"}))
    assert ids(meta) == [a1, b1]
    wildcard = success(
        await api.get("getRecordings", {"meetingID": "room-", "meetingIDWildcard": "true"})
    )
    assert ids(wildcard) == [a1, a2, b1]


async def test_pagination(api: Api) -> None:
    seeded = [await seed(api, f"room-{i}", 1_000 + i) for i in range(5)]
    page = success(await api.get("getRecordings", {"limit": "2", "offset": "2"}))
    assert ids(page) == seeded[2:4]
    assert field(page, "totalElements") == "5"
    assert field(page, "nextPage") == "true"
    last = success(await api.get("getRecordings", {"limit": "2", "offset": "4"}))
    assert field(last, "nextPage") == "false"


async def test_paging_parameters_never_fail(api: Api) -> None:
    """BBB 3.0: limit is raised to 1 and capped at 100, offset is at least 0; neither errs."""
    seeded = [await seed(api, f"room-{i}", 1_000 + i) for i in range(3)]
    one = success(await api.get("getRecordings", {"limit": "0"}))
    assert ids(one) == seeded[:1]
    assert field(one, "totalElements") == "3"
    capped = success(await api.get("getRecordings", {"limit": "500", "offset": "-3"}))
    assert ids(capped) == seeded
    assert field(capped, "totalElements") == "3"  # paginated, with everything on the page
    unpaged = success(await api.get("getRecordings", {"limit": "ten", "offset": "x"}))
    assert ids(unpaged) == seeded
    assert unpaged.find("totalElements") is None


async def test_states_and_publish_values_as_bbb_reads_them(api: Api) -> None:
    rid = await seed(api, "room-s", 1_000)
    unknown = success(await api.get("getRecordings", {"state": "archived"}))
    assert field(unknown, "messageKey") == "noRecordings"
    mixed = success(await api.get("getRecordings", {"state": "archived,published"}))
    assert ids(mixed) == [rid]

    # Groovy's toBoolean(): true, y and 1 publish; anything else unpublishes. The answer
    # repeats the value sent.
    for value, state in (("0", "unpublished"), ("1", "published"), ("no", "unpublished")):
        root = success(await api.get("publishRecordings", {"recordID": rid, "publish": value}))
        assert field(root, "published") == value
        listed = success(await api.get("getRecordings", {"recordID": rid}))
        assert field(listed, "recordings/recording/state") == state
    root = success(await api.get("publishRecordings", {"recordID": rid, "publish": "Y"}))
    assert field(root, "published") == "Y"
    listed = success(await api.get("getRecordings", {"recordID": rid}))
    assert field(listed, "recordings/recording/published") == "true"


async def test_publish_unpublish_delete_update(api: Api) -> None:
    rid = await seed(api, "room-p", 1_000)
    root = success(await api.get("publishRecordings", {"recordID": rid, "publish": "false"}))
    assert field(root, "published") == "false"
    rec = success(await api.get("getRecordings", {"recordID": rid}))
    assert field(rec, "recordings/recording/state") == "unpublished"
    assert field(rec, "recordings/recording/published") == "false"

    success(
        await api.get("updateRecordings", {"recordID": rid, "meta_course": "", "meta_title": "T"})
    )
    rec = success(await api.get("getRecordings", {"recordID": rid}))
    metadata = {c.tag: c.text for c in rec.find("recordings/recording/metadata") or []}
    assert metadata == {"bbb-origin": "Moodle", "title": "T"}

    assert field(success(await api.get("deleteRecordings", {"recordID": rid})), "deleted") == "true"
    gone = success(await api.get("getRecordings", {"recordID": rid}))
    assert field(gone, "messageKey") == "noRecordings"
    failed(await api.get("publishRecordings", {"recordID": rid, "publish": "true"}), "notFound")
    kept = success(await api.get("getRecordings", {"recordID": rid, "state": "deleted"}))
    assert ids(kept) == [rid]


async def test_text_tracks(api: Api) -> None:
    rid = await seed(api, "room-t", 1_000)
    missing = await api.get("getRecordingTextTracks", {"recordID": rid})
    assert missing.json()["response"]["messageKey"] == "noCaptionsFound"
    srt = b"1\n00:00:01,000 --> 00:00:02,500\nHello\n"
    query = api.query(
        "putRecordingTextTrack", {"recordID": rid, "kind": "subtitles", "lang": "pt-BR"}
    )
    put = await api.client.post(
        f"/bigbluebutton/api/putRecordingTextTrack?{query}", files={"file": ("a.srt", srt)}
    )
    assert put.json()["response"]["returncode"] == "SUCCESS", put.text
    tracks = (await api.get("getRecordingTextTracks", {"recordID": rid})).json()["response"][
        "tracks"
    ]
    assert [(t["kind"], t["lang"], t["label"]) for t in tracks] == [("subtitles", "pt-BR", "pt-BR")]
    # The href is what an LMS downloads: the WebVTT made from the SRT.
    download = await api.client.get(tracks[0]["href"].removeprefix("https://sala.test"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/vtt")
    assert download.text.startswith("WEBVTT") and "00:00:01.000 --> 00:00:02.500" in download.text
    forged = tracks[0]["href"].replace(tracks[0]["href"].split("/")[-3], "0" * 32)
    assert (await api.client.get(forged.removeprefix("https://sala.test"))).status_code == 404
    bad = api.query("putRecordingTextTrack", {"recordID": rid, "kind": "songs", "lang": "pt-BR"})
    response = await api.client.post(
        f"/bigbluebutton/api/putRecordingTextTrack?{bad}", files={"file": ("a.srt", srt)}
    )
    assert response.json()["response"]["messageKey"] == "invalidKind"


async def test_get_all_meetings_with_recordings_and_filters(api: Api) -> None:
    meeting_id, created = await api.create(name="Physics", **{"meta_course": "physics-101"})
    internal = field(success(created), "internalMeetingID")
    create_time = int(internal.rsplit("-", 1)[1])
    await seed(api, meeting_id, create_time)
    other_id, _ = await api.create(name="Chemistry")
    root = success(
        await api.get(
            "getAllMeetings", {"includeRecordings": "true", "sort_by": "name", "order_by": "asc"}
        )
    )
    names = [m.findtext("meetingName") for m in root.iter("meeting")]
    assert names == ["Chemistry", "Physics"]
    entries = root.findall("meetings/meetingData")
    assert entries[0].find("recording") is None
    assert entries[1].findtext("recording/recordID") == internal
    filtered = success(await api.get("getAllMeetings", {"meta_course": "physics%"}))
    assert [m.findtext("meetingID") for m in filtered.iter("meeting")] == [meeting_id]
    page = success(await api.get("getAllMeetings", {"limit": "1"}))
    assert field(page, "nextPage") == "true"
    assert len(page.findall("meetings/meetingData")) == 1
    assert other_id
