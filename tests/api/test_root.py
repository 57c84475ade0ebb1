"""The API root: what BBB integrations probe to see that a server is there and which API it
speaks. bbb-web 3.0 answers it at /bigbluebutton/ and /bigbluebutton/api, without a checksum,
with exactly its seven elements; sala's own version travels in a header instead."""

from __future__ import annotations

import pytest

from sala import __version__
from tests.api.bbb_shapes import paths_for, problems
from tests.conftest import Api
from tests.xmlutil import field, success

ROOTS = ["/bigbluebutton/", "/bigbluebutton", "/bigbluebutton/api", "/bigbluebutton/api/"]
BBB_3_0_KEYS = {
    "returncode",
    "version",
    "apiVersion",
    "bbbVersion",
    "graphqlWebsocketUrl",
    "graphqlApiUrl",
    "html5PluginSdkVersion",
}


@pytest.mark.parametrize("path", ROOTS)
async def test_root_answers_exactly_bbb_3_0_elements(api: Api, path: str) -> None:
    # No checksum, and parameters are ignored.
    response = await api.client.get(f"{path}?checksum=wrong&foo=bar")
    root = success(response)
    assert (
        problems("root", paths_for("root", response.content), "3_0_later", extensions=False) == []
    )
    assert field(root, "version") == "2.0"
    assert field(root, "apiVersion") == "2.0"
    assert response.headers["x-sala-version"] == __version__


@pytest.mark.parametrize("path", ROOTS)
async def test_root_answers_head_and_post(api: Api, path: str) -> None:
    head = await api.client.head(path)
    assert head.status_code == 200
    assert head.headers["x-sala-version"] == __version__
    post = await api.client.post(path)
    success(post)


async def test_root_answers_json_with_the_same_keys(api: Api) -> None:
    response = await api.client.get("/bigbluebutton/", headers={"Content-Type": "application/json"})
    body = response.json()["response"]
    assert set(body) == BBB_3_0_KEYS
    assert body["returncode"] == "SUCCESS"
    assert response.headers["x-sala-version"] == __version__
