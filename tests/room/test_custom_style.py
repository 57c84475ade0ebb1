"""The room's custom stylesheet: join's userdata-bbb_custom_style_url and userdata-bbb_custom_style,
served from the room's own origin, sanitised, to the participant who asked for them only.

The URL is fetched by sala (checked by the destination policy, bounded in size and time), never
by the browser: the room's CSP keeps allowing styles from 'self' only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.room.conftest import RoomServer
from tests.support.static_server import StaticServer

CSS = "text/css; charset=utf-8"
LEAK = "body { background: url(https://evil.example/leak) }"


@pytest.fixture
def styles() -> Iterator[StaticServer]:
    server = StaticServer(
        {
            "/theme.css": (CSS, f"#meeting-name {{ color: rgb(7, 8, 9) }}\n{LEAK}".encode()),
            "/page.html": ("text/html", b"<html>not a style</html>"),
            "/huge.css": (CSS, b"a { color: red }\n" * 5000),
        }
    ).start()
    yield server
    server.stop()


async def stylesheet(server: RoomServer, meeting_id: str, name: str, **userdata: str) -> str:
    cookie = await server.session(
        meeting_id, name, **{f"userdata-{k}": v for k, v in userdata.items()}
    )
    response = await server.http.get(
        f"{server.base}/room/custom.css", headers={"Cookie": f"sala_room={cookie}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    return response.text


async def test_only_a_participant_gets_a_stylesheet(room_server: RoomServer) -> None:
    response = await room_server.http.get(f"{room_server.base}/room/custom.css")
    assert response.status_code == 401


async def test_the_inline_style_is_served_sanitised(room_server: RoomServer) -> None:
    meeting_id = await room_server.create()
    css = await stylesheet(
        room_server,
        meeting_id,
        "Ada",
        bbb_custom_style=f"#meeting-name {{ color: rgb(1, 2, 3) }} @import 'x.css'; {LEAK}",
    )
    assert "#meeting-name { color: rgb(1, 2, 3) }" in css
    assert "@import" not in css and "url(" not in css
    # Another participant of the same meeting, without the userdata, gets nothing.
    assert await stylesheet(room_server, meeting_id, "Bea") == ""


async def test_the_url_is_fetched_by_sala_once_and_comes_before_the_inline_style(
    room_server: RoomServer, styles: StaticServer
) -> None:
    meeting_id = await room_server.create()
    userdata = {
        "bbb_custom_style_url": styles.url("/theme.css"),
        "bbb_custom_style": "#meeting-name { color: rgb(1, 2, 3) }",
    }
    css = await stylesheet(room_server, meeting_id, "Ada", **userdata)
    # BBB links the URL's sheet first and the inline one after it: the inline one wins.
    assert css.index("rgb(7, 8, 9)") < css.index("rgb(1, 2, 3)")
    assert "url(" not in css and "evil.example/leak" in css  # the text stays, inert
    assert await stylesheet(room_server, meeting_id, "Bea", **userdata) == css
    assert styles.asked == ["/theme.css"]  # a second page load reuses what was fetched


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/theme.css",  # cloud metadata: refused by the policy, never contacted
        "https://styles.invalid/theme.css",  # a reserved name: never resolved
        "ftp://127.0.0.1/theme.css",
        "/theme.css",
    ],
)
async def test_urls_sala_may_not_fetch_give_no_style(room_server: RoomServer, url: str) -> None:
    meeting_id = await room_server.create()
    css = await stylesheet(
        room_server,
        meeting_id,
        "Ada",
        bbb_custom_style_url=url,
        bbb_custom_style="a { color: red }",
    )
    assert css.strip() == "a { color: red }"


@pytest.mark.parametrize("path", ["/page.html", "/huge.css", "/missing.css"])
async def test_answers_that_are_not_a_small_stylesheet_are_ignored(
    room_server: RoomServer, styles: StaticServer, path: str
) -> None:
    meeting_id = await room_server.create()
    css = await stylesheet(room_server, meeting_id, "Ada", bbb_custom_style_url=styles.url(path))
    assert css == ""
    assert styles.asked == [path]
