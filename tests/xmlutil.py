"""Reading API answers in tests the way client libraries do: parse the XML body."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx


def xml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.content)


def field(root: ET.Element, path: str) -> str:
    node = root.find(path)
    assert node is not None, f"no <{path}> in {ET.tostring(root).decode()}"
    return node.text or ""


def failed(response: httpx.Response, key: str) -> ET.Element:
    root = xml(response)
    assert field(root, "returncode") == "FAILED", response.text
    assert field(root, "messageKey") == key, response.text
    assert field(root, "message"), "FAILED answers always carry a readable message"
    return root


def success(response: httpx.Response) -> ET.Element:
    root = xml(response)
    assert field(root, "returncode") == "SUCCESS", response.text
    return root


def parse(body: str) -> ET.Element:
    """An API answer already read as text."""
    return ET.fromstring(body)
