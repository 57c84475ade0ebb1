"""Conversion with the real tools (pdfinfo, pdftoppm, Pillow): good documents become pages,
broken and hostile ones become a readable reason, quickly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from sala.presentations.convert import ConversionError, Limits, convert
from sala.presentations.default_pdf import default_pdf
from tests.presentations import documents

LIMITS = Limits(timeout_s=5)


async def test_a_pdf_becomes_slides_and_thumbnails(tmp_path: Path) -> None:
    assert await convert(documents.pdf(3), "talk.pdf", tmp_path, LIMITS) == 3
    for n in (1, 2, 3):
        with (
            Image.open(tmp_path / f"{n}.png") as slide,
            Image.open(tmp_path / f"{n}-thumb.png") as thumb,
        ):
            assert max(slide.size) == 1600 and max(thumb.size) == 240
    assert not (tmp_path / "4.png").exists()


async def test_pages_past_nine_keep_their_numbers(tmp_path: Path) -> None:
    assert await convert(documents.pdf(12, (64, 36)), "long.pdf", tmp_path, LIMITS) == 12
    assert (tmp_path / "12.png").exists() and (tmp_path / "9-thumb.png").exists()


async def test_the_default_presentation_is_a_valid_one_page_pdf(tmp_path: Path) -> None:
    assert await convert(default_pdf(), "default.pdf", tmp_path, LIMITS) == 1


async def test_an_image_is_one_page(tmp_path: Path) -> None:
    assert await convert(documents.png(), "board.png", tmp_path, LIMITS) == 1
    assert (tmp_path / "1.png").exists()


@pytest.mark.parametrize(
    ("make", "name", "reason"),
    [
        (documents.corrupted_pdf, "broken.pdf", "could not be read"),
        (lambda: documents.pdf(500, (40, 30)), "huge.pdf", "500 pages; at most 200"),
        (documents.pixel_bomb, "bomb.png", "could not be read"),
        (documents.stream_bomb_pdf, "bomb.pdf", "took too long"),
        (lambda: b"MZ\x90\x00 an executable", "setup.exe", "Unsupported document type"),
        (lambda: b"x" * (LIMITS.max_bytes + 1), "big.pdf", "larger than 30 MiB"),
    ],
)
async def test_bad_documents_fail_with_a_reason(
    tmp_path: Path, make: object, name: str, reason: str
) -> None:
    with pytest.raises(ConversionError, match=reason):
        await convert(make(), name, tmp_path, Limits(timeout_s=3))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "name", "pages"),
    [(lambda: documents.odt(2), "handout.odt", 2), (lambda: documents.odp(3), "talk.odp", 3)],
)
async def test_office_documents_become_pages_through_libreoffice(
    tmp_path: Path, make: object, name: str, pages: int
) -> None:
    assert await convert(make(), name, tmp_path, Limits(timeout_s=60)) == pages  # type: ignore[operator]
    with Image.open(tmp_path / f"{pages}.png") as last:
        # A page with text on it, not a blank render.
        darkest, lightest = last.convert("L").getextrema()
        assert lightest - darkest > 100
    assert not (tmp_path / f"{pages + 1}.png").exists()


async def test_office_documents_need_libreoffice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # as on a server without LibreOffice
    with pytest.raises(ConversionError, match="need LibreOffice"):
        await convert(b"PK\x03\x04 a docx", "notes.docx", tmp_path, LIMITS)
