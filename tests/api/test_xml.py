"""The response writer: BBB's compact XML and the opt-in JSON form of the same document."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from sala.api.xml import Repeated, to_json, to_xml
from sala.dates import java_date


def test_compact_xml_without_declaration_and_escaped_text() -> None:
    doc = [
        ("returncode", "SUCCESS"),
        ("name", "R&D <lab>"),
        ("running", False),
        ("count", 3),
        ("skipped", None),
        ("attendees", Repeated("attendee", [[("userID", "u1")], [("userID", "u2")]])),
        ("metadata", [("bbb-origin", "Moodle"), ("bad name", "x")]),
        ("empty", []),
    ]
    assert to_xml(doc) == (
        b"<response><returncode>SUCCESS</returncode><name>R&amp;D &lt;lab&gt;</name>"
        b"<running>false</running><count>3</count><attendees><attendee><userID>u1</userID>"
        b"</attendee><attendee><userID>u2</userID></attendee></attendees>"
        b"<metadata><bbb-origin>Moodle</bbb-origin></metadata><empty></empty></response>"
    )


def test_control_characters_never_reach_the_xml() -> None:
    out = to_xml([("message", "a\x00b\x1bc\tok")])
    assert ET.fromstring(out).findtext("message") == "abc\tok"


def test_json_mirrors_the_document_with_arrays_and_types() -> None:
    doc = [
        ("returncode", "SUCCESS"),
        ("running", True),
        ("attendees", Repeated("attendee", [[("userID", "u1")]])),
        ("metadata", [("k", "v")]),
        ("gone", None),
    ]
    assert json.loads(to_json(doc)) == {
        "response": {
            "returncode": "SUCCESS",
            "running": True,
            "attendees": [{"userID": "u1"}],
            "metadata": {"k": "v"},
        }
    }


def test_java_date_format_matches_bbb_create_date() -> None:
    # BBB's docs example: 1741165647513 renders as "Wed Mar 05 09:07:27 UTC 2025".
    assert java_date(1741165647513) == "Wed Mar 05 09:07:27 UTC 2025"


def test_cdata_sections_survive_any_text() -> None:
    from sala.api.xml import Cdata

    out = to_xml([("callbackURL", Cdata("https://x/?a=1&b=]]>"))])
    assert b"<![CDATA[" in out
    assert ET.fromstring(out).findtext("callbackURL") == "https://x/?a=1&b=]]>"
    assert json.loads(to_json([("u", Cdata("a&b"))])) == {"response": {"u": "a&b"}}
