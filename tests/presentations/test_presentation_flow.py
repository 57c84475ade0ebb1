"""Presentations through the API: create and insertDocument answer at once, documents convert in
the background, and what a meeting shows follows BBB's rules."""

from __future__ import annotations

import base64
import http.server
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from sala.presentations.convert import Limits
from sala.presentations.service import Presentation
from tests.conftest import Api
from tests.presentations import documents
from tests.xmlutil import failed, success


def modules(*docs: str) -> str:
    return '<modules><module name="presentation">' + "".join(docs) + "</module></modules>"


def inline(data: bytes, filename: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<document filename="{filename}"{extra}>{base64.b64encode(data).decode()}</document>'


async def post_create(api: Api, body: str, **params: str) -> tuple[str, str]:
    meeting_id = f"m-{uuid.uuid4()}"
    query = api.query("create", {"name": "Deck", "meetingID": meeting_id, **params})
    response = await api.client.post(
        f"/bigbluebutton/api/create?{query}", content=body, headers={"Content-Type": "text/xml"}
    )
    internal = success(response).findtext("internalMeetingID") or ""
    return meeting_id, internal


async def shown(api: Api, internal_id: str) -> list[Presentation]:
    await api.services.presentations.wait_idle()
    return await api.services.presentations.of_meeting(internal_id)


@pytest.fixture
def document_server() -> Iterator[str]:
    """Serves a 4-page PDF at /deck.pdf and nothing anywhere else, on loopback."""
    body = documents.pdf(4)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/deck.pdf":
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_meeting_without_documents_gets_the_default_once(api: Api) -> None:
    _, response = await api.create()
    internal = success(response).findtext("internalMeetingID") or ""
    # Nothing is made at create: the room asks for the default when somebody enters.
    assert await shown(api, internal) == []
    made = await api.services.presentations.add_default(internal)
    assert made is not None
    assert await api.services.presentations.add_default(internal) is None  # two entering at once
    [default] = await shown(api, internal)
    assert (default.name, default.state, default.pages, default.current) == (
        "default.pdf",
        "ready",
        1,
        True,
    )
    slide = api.services.presentations.page_file(default, 1, thumbnail=False)
    assert slide is not None and slide.read_bytes().startswith(b"\x89PNG")


async def test_inline_documents_replace_the_default(api: Api) -> None:
    body = modules(
        inline(documents.png(), "board.png"),
        inline(documents.pdf(3), "lecture.pdf", current="true", downloadable="true"),
    )
    _, internal = await post_create(api, body)
    board, lecture = await shown(api, internal)
    assert (board.name, board.pages, board.current) == ("board.png", 1, False)
    assert (lecture.name, lecture.pages, lecture.current, lecture.downloadable) == (
        "lecture.pdf",
        3,
        True,
        True,
    )


async def test_documents_by_url_and_pre_uploaded_presentation(
    api: Api, document_server: str
) -> None:
    _, internal = await post_create(
        api,
        modules(f'<document url="{document_server}/deck.pdf" filename="deck.pdf"/>'),
    )
    [deck] = await shown(api, internal)
    assert (deck.state, deck.pages, deck.current) == ("ready", 4, True)

    meeting_id = f"m-{uuid.uuid4()}"
    response = await api.get(
        "create",
        {
            "name": "Pre",
            "meetingID": meeting_id,
            "preUploadedPresentation": f"{document_server}/deck.pdf",
            "preUploadedPresentationName": "slides.pdf",
            "preUploadedPresentationOverrideDefault": "false",
        },
    )
    internal = success(response).findtext("internalMeetingID") or ""
    default, slides = await shown(api, internal)
    assert default.name == "default.pdf" and slides.name == "slides.pdf"
    assert slides.pages == 4


async def test_bad_documents_fail_without_harming_the_meeting(
    api: Api, document_server: str
) -> None:
    meeting_id, internal = await post_create(
        api,
        modules(
            inline(documents.pdf(2), "good.pdf", current="true"),
            inline(documents.corrupted_pdf(), "broken.pdf"),
            f'<document url="{document_server}/missing.pdf" filename="missing.pdf"/>',
        ),
    )
    good, broken, missing = await shown(api, internal)
    assert good.state == "ready" and good.current
    assert broken.state == "failed" and "could not be read" in (broken.error or "")
    assert missing.state == "failed" and "HTTP 404" in (missing.error or "")
    assert success(await api.get("isMeetingRunning", {"meetingID": meeting_id}))


async def test_a_url_that_never_answers_times_out(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    monkeypatch.setattr(api.services.presentations, "_limits", Limits(timeout_s=1.0))
    try:
        _, internal = await post_create(
            api,
            modules(f'<document url="http://127.0.0.1:{silent.getsockname()[1]}/x.pdf"/>'),
        )
        [stuck] = await shown(api, internal)
        assert stuck.state == "failed" and "download" in (stuck.error or "")
    finally:
        silent.close()


async def test_insert_document_adds_to_a_running_meeting(api: Api) -> None:
    meeting_id, response = await api.create()
    internal = success(response).findtext("internalMeetingID") or ""
    query = api.query("insertDocument", {"meetingID": meeting_id})
    inserted = await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=modules(inline(documents.pdf(2), "extra.pdf", current="true")),
        headers={"Content-Type": "application/xml"},
    )
    success(inserted)
    [extra] = await shown(api, internal)
    assert extra.current and extra.pages == 2

    bad = await api.client.post(
        f"/bigbluebutton/api/insertDocument?{query}",
        content=modules('<document filename="x.pdf">not base64 at all!</document>'),
        headers={"Content-Type": "application/xml"},
    )
    failed(bad, "validationError")
    assert len(await shown(api, internal)) == 1
