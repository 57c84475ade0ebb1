"""getRecordingTextTracks and putRecordingTextTrack: captions attached to recordings.

Both answer JSON (bbb-api.md §2.11); checksum and missing-parameter errors before the lookup
are XML, as in BBB. Uploaded SRT is converted to WebVTT; WebVTT is kept as sent.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse

from sala.api.endpoint import Answer, ApiRequest
from sala.api.errors import ApiError
from sala.recordings.track_links import track_href

_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_SRT_TIME = re.compile(r"(\d{2}:\d{2}:\d{2}),(\d{3})")
MAX_TRACK_BYTES = 2 * 1024 * 1024


def _json(returncode: str, **fields: object) -> JSONResponse:
    return JSONResponse({"response": {"returncode": returncode, **fields}})


async def get_recording_text_tracks(req: ApiRequest) -> Answer:
    record_id = req.params.nonempty("recordID")
    if record_id is None:
        raise ApiError("missingParamRecordID", "You must specify a recordID.")
    recording = await req.ctx.recordings.get(record_id)
    if recording is None:
        return _json(
            "FAILED", messageKey="noRecordings", message=f"No recording found for {record_id}"
        )
    if not recording.text_tracks:
        return _json(
            "FAILED", messageKey="noCaptionsFound", message=f"No captions found for {record_id}"
        )
    settings = req.ctx.settings
    tracks = [
        {
            "href": track_href(
                settings.base_url, settings.shared_secret, record_id, t["kind"], t["lang"]
            ),
            "kind": t["kind"],
            "label": t.get("label", t["lang"]),
            "lang": t["lang"],
            "source": t.get("source", "upload"),
        }
        for t in recording.text_tracks
    ]
    return _json("SUCCESS", tracks=tracks)


def srt_to_vtt(text: str) -> str:
    body = _SRT_TIME.sub(r"\1.\2", text.replace("\r\n", "\n").strip())
    return "WEBVTT\n\n" + body + "\n"


async def put_recording_text_track(req: ApiRequest) -> Answer:
    p = req.params
    record_id, kind, lang = p.nonempty("recordID"), p.nonempty("kind"), p.nonempty("lang")
    if record_id is None or kind is None or lang is None:
        missing = [
            n for n, v in (("recordID", record_id), ("kind", kind), ("lang", lang)) if v is None
        ]
        return _json(
            "FAILED", messageKey="paramError", message=f"Missing param: {', '.join(missing)}"
        )
    if kind not in ("subtitles", "captions"):
        return _json(
            "FAILED",
            messageKey="invalidKind",
            message=f"Invalid kind parameter, expected=subtitles|captions actual={kind}",
        )
    if not _LANG.match(lang):
        return _json(
            "FAILED", messageKey="invalidLang", message=f"Malformed lang param, received={lang}"
        )
    recording = await req.ctx.recordings.get(record_id)
    if recording is None or recording.state not in ("published", "unpublished"):
        return _json(
            "FAILED", messageKey="noRecordings", message=f"No recording found for {record_id}"
        )
    upload = req.form.get("file") if req.form is not None else None
    if not isinstance(upload, UploadFile):
        return _json(
            "FAILED", messageKey="empty_uploaded_text_track", message="Empty uploaded text track."
        )
    raw = await upload.read(MAX_TRACK_BYTES + 1)
    if not raw.strip():
        return _json(
            "FAILED", messageKey="empty_uploaded_text_track", message="Empty uploaded text track."
        )
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    if len(raw) > MAX_TRACK_BYTES:
        vtt = None
    elif text.startswith("WEBVTT"):
        vtt = text
    elif _SRT_TIME.search(text):
        vtt = srt_to_vtt(text)
    else:
        vtt = None
    if vtt is None:
        return _json(
            "FAILED",
            messageKey="upload_text_track_failed",
            message="Text track must be WebVTT or SRT, at most 2 MiB.",
            recordId=record_id,
        )
    folder = Path(req.ctx.settings.data_dir) / "captions" / record_id
    await req.ctx.recordings.put_text_track(
        record_id,
        folder,
        {"kind": kind, "lang": lang, "label": p.nonempty("label") or lang, "source": "upload"},
        vtt,
    )
    return _json(
        "SUCCESS",
        messageKey="upload_text_track_success",
        message="Text track uploaded successfully",
        recordId=record_id,
    )
