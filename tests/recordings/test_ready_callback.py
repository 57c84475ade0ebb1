"""The recording-ready callback under the metadata names LMSs use: BBB takes
`meta_bbb-recording-ready-url`, else Moodle's `meta_bn-recording-ready-url`, else Canvas'
`meta_canvas-recording-ready-url`, and POSTs the same signed parameters to it.

Meetings are recorded without media (slides and chat over silence), so the real pipeline runs
quickly; callbacks go to a real HTTP receiver on loopback."""

from __future__ import annotations

import jwt

from sala.clock import ManualClock
from tests.conftest import Api
from tests.events.test_webhooks import deliver
from tests.recordings.test_pipeline import recorded_meeting, run_pipeline
from tests.support.receiver import Receiver


async def test_moodle_and_canvas_names_in_bbb_order(
    api: Api, clock: ManualClock, receiver: Receiver
) -> None:
    url = receiver.url
    meetings = {
        "moodle": {"meta_bn-recording-ready-url": url("/moodle")},
        "canvas": {"meta_canvas-recording-ready-url": url("/canvas")},
        "both-lms": {
            "meta_bn-recording-ready-url": url("/both-lms/bn"),
            "meta_canvas-recording-ready-url": url("/both-lms/canvas"),
        },
        "all": {
            "meta_canvas-recording-ready-url": url("/all/canvas"),
            "meta_bn-recording-ready-url": url("/all/bn"),
            "meta_bbb-recording-ready-url": url("/all/bbb"),
        },
    }
    record_ids = {}
    for meeting_id, params in meetings.items():
        record_ids[meeting_id] = await recorded_meeting(
            api, clock, meeting_id, camera=False, voice=False, **params
        )
    await run_pipeline(api)
    await deliver(api)

    calls = {r.path: r for r in receiver.accepted()}
    assert sorted(calls) == ["/all/bbb", "/both-lms/bn", "/canvas", "/moodle"]
    for path, meeting_id in (
        ("/moodle", "moodle"),
        ("/canvas", "canvas"),
        ("/both-lms/bn", "both-lms"),
        ("/all/bbb", "all"),
    ):
        call = calls[path]
        assert call.method == "POST"
        assert call.headers["content-type"] == "application/x-www-form-urlencoded"
        [token] = call.form["signed_parameters"]
        claims = jwt.decode(token, api.secret, algorithms=["HS256"])
        assert claims == {"meeting_id": meeting_id, "record_id": record_ids[meeting_id]}
