"""Checksums against BBB's published test vectors and the query-string rules clients rely on."""

from __future__ import annotations

import pytest

from sala import checksums as checksum

SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
ALL = frozenset({"sha1", "sha256", "sha384", "sha512"})

VECTORS = {
    "sha1": "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17",
    "sha256": "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e",
    "sha384": "891ac633df39d0a1b4f8d597f3e190833216c4b29c4fb51ea3ca72757eeb958d6e7b49a845cf29f5c6019c7d29d029d1",
    "sha512": "de73ad61d11a5c801b68d4bd6ec5248546085cefb0b25c85f3c46249ea93a3a4b120f92c0a8a58d7512cb77821884951a3b01245f3435dbbef49fff3cc3988b4",
}


@pytest.mark.parametrize("algorithm", sorted(VECTORS))
def test_published_vectors(algorithm: str) -> None:
    assert checksum.compute("create", QUERY, SECRET, algorithm) == VECTORS[algorithm]
    assert checksum.matches("create", [QUERY], VECTORS[algorithm], SECRET, ALL)


def test_empty_query_and_hooks_vectors() -> None:
    assert (
        checksum.compute("getMeetings", "", SECRET, "sha1")
        == "2027baa7771026e9e93392f55031535d1444c41f"
    )
    assert (
        checksum.compute(
            "hooks/create", "callbackURL=https%3A%2F%2Fexample.com%2Fhook", SECRET, "sha1"
        )
        == "bf595478afda3622ee78aee1bc91c16a6b7b1828"
    )


def test_algorithm_is_chosen_by_length_and_must_be_accepted() -> None:
    only_256 = frozenset({"sha256"})
    assert checksum.matches("create", [QUERY], VECTORS["sha256"], SECRET, only_256)
    assert not checksum.matches("create", [QUERY], VECTORS["sha1"], SECRET, only_256)
    assert not checksum.matches("create", [QUERY], VECTORS["sha1"][:-1], SECRET, ALL)


def test_uppercase_hex_is_accepted() -> None:
    assert checksum.matches("create", [QUERY], VECTORS["sha1"].upper(), SECRET, ALL)


@pytest.mark.parametrize(
    ("raw", "stripped", "value"),
    [
        (f"{QUERY}&checksum=abc", QUERY, "abc"),
        (f"checksum=abc&{QUERY}", QUERY, "abc"),
        ("a=1&checksum=abc&b=2", "a=1&b=2", "abc"),
        ("&checksum=abc", "", "abc"),  # what the PHP library sends with no parameters
        ("checksum=abc", "", "abc"),
        ("a=1", "a=1", None),
        ("a=checksum=1&checksum=x", "a=checksum=1", "x"),
        ("xchecksum=1&checksum=x", "xchecksum=1", "x"),
    ],
)
def test_checksum_field_is_cut_structurally(raw: str, stripped: str, value: str | None) -> None:
    assert checksum.split_checksum(raw) == (stripped, value)


def test_canonical_form_string_matches_bbb_web_rebuild() -> None:
    params = {"name": ["Test Meeting"], "meetingID": ["a~b*c"], "checksum": ["x"], "Zeta": ["1"]}
    # Sorted by UTF-16 code unit: uppercase before lowercase; '~' escaped, '*' kept, space as '+'.
    assert checksum.canonical_form_string(params) == "Zeta=1&meetingID=a%7Eb*c&name=Test+Meeting"
