"""Turning an uploaded document into page images, in subprocesses with limits.

PDFs are measured with `pdfinfo` and rendered with `pdftoppm` (Debian's poppler-utils), each page
to a slide image and a thumbnail. Images become one page, decoded by Pillow (which refuses
decompression bombs). Office documents go through LibreOffice when it is installed. Every tool
runs with a time limit and an address-space and CPU limit, so a broken or hostile file costs a
failed conversion with a readable reason, never the server.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from sala.subprocesses import ProgramMissing, ProgramTimedOut, run_program

SLIDE_PX = 1600
THUMB_PX = 240
PAGES_PER_RUN = 10
"""Slides are rendered this many pages per pdftoppm run, so progress can be told between runs."""

Progress = Callable[[int, int], Awaitable[None]]
"""Told (pages rendered, pages in all) while a document converts."""
OFFICE_SUFFIXES = {".doc", ".docx", ".odt", ".rtf", ".txt", ".ppt", ".pptx", ".odp", ".xls",
                   ".xlsx", ".ods"}  # fmt: skip


class ConversionError(Exception):
    """Why a document could not be used; safe to show to the user who sent it."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 30 * 1024 * 1024
    max_pages: int = 200
    timeout_s: float = 120.0
    memory_bytes: int = 1024 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_documents: int = 100
    """Documents per meeting."""


def kind_of(data: bytes, filename: str) -> str:
    """ "pdf", "image" or "office", from the content first and the name second."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")) or data[8:12] == b"WEBP":
        return "image"
    if Path(filename).suffix.lower() in OFFICE_SUFFIXES:
        return "office"
    raise ConversionError("Unsupported document type: send a PDF, an image or an Office file")


def _limit(limits: Limits) -> None:
    # Runs in the child before exec.
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


async def _run(
    argv: list[str], limits: Limits, cwd: Path | None = None, timeout_s: float | None = None
) -> str:
    limit = limits.timeout_s if timeout_s is None else max(timeout_s, 0.1)
    try:
        done = await run_program(argv, limit, cwd=cwd, preexec_fn=lambda: _limit(limits))
    except ProgramMissing:
        raise ConversionError(f"{argv[0]} is not installed on the server") from None
    except ProgramTimedOut:
        raise ConversionError("The document took too long to convert") from None
    if done.returncode != 0:
        raise ConversionError(f"The document could not be read ({done.last_error_line(200)})")
    return done.stdout.decode(errors="replace")


async def page_count(pdf: Path, limits: Limits) -> int:
    info = await _run(["pdfinfo", str(pdf)], limits)
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    raise ConversionError("The PDF has no pages")


async def office_to_pdf(source: Path, workdir: Path, limits: Limits) -> Path:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise ConversionError("Office documents need LibreOffice on the server; send a PDF instead")
    profile = workdir / "lo-profile"
    await _run(
        [office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(workdir), str(source)],
        limits,
    )  # fmt: skip
    converted = workdir / (source.stem + ".pdf")
    if not converted.exists():
        raise ConversionError("LibreOffice produced no PDF")
    return converted


async def render_pdf(pdf: Path, out: Path, limits: Limits, progress: Progress | None = None) -> int:
    """Slides `out/<n>.png` and thumbnails `out/<n>-thumb.png`, n from 1; returns the pages.
    The time limit bounds the whole rendering, however many runs it takes."""
    deadline = time.monotonic() + limits.timeout_s
    pages = await page_count(pdf, limits)
    if pages < 1:
        raise ConversionError("The PDF has no pages")
    if pages > limits.max_pages:
        raise ConversionError(f"The PDF has {pages} pages; at most {limits.max_pages} are allowed")
    if progress is not None:
        await progress(0, pages)
    for first in range(1, pages + 1, PAGES_PER_RUN):
        last = min(first + PAGES_PER_RUN - 1, pages)
        await _run(
            ["pdftoppm", "-png", "-scale-to", str(SLIDE_PX), "-f", str(first), "-l", str(last),
             str(pdf), str(out / "slide")],
            limits, timeout_s=deadline - time.monotonic(),
        )  # fmt: skip
        if progress is not None:
            await progress(last, pages)
    await _run(
        ["pdftoppm", "-png", "-scale-to", str(THUMB_PX), str(pdf), str(out / "thumb")],
        limits, timeout_s=deadline - time.monotonic(),
    )  # fmt: skip
    _rename(out, "slide", "", pages)
    _rename(out, "thumb", "-thumb", pages)
    return pages


def _rename(out: Path, prefix: str, suffix: str, pages: int) -> None:
    # pdftoppm pads page numbers to the width of the page count (slide-01.png for 10+ pages).
    for made in out.glob(f"{prefix}-*.png"):
        number = int(made.stem.rsplit("-", 1)[1])
        made.rename(out / f"{number}{suffix}.png")
    if not (out / f"1{suffix}.png").exists() or not (out / f"{pages}{suffix}.png").exists():
        raise ConversionError("Some pages could not be rendered")


def render_image(source: Path, out: Path, limits: Limits) -> int:
    """An image as a one-page presentation (blocking: run it in a thread)."""
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        with Image.open(source) as image:
            image.load()
            slide = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ConversionError(f"The image could not be read ({exc})") from None
    slide.thumbnail((SLIDE_PX, SLIDE_PX))
    slide.save(out / "1.png")
    slide.thumbnail((THUMB_PX, THUMB_PX))
    slide.save(out / "1-thumb.png")
    return 1


def source_name(data: bytes, filename: str) -> str:
    """What a document is kept as in its folder: `source.pdf` for a PDF, else `source` with the
    name's extension (LibreOffice goes by it)."""
    suffix = ".pdf" if data.startswith(b"%PDF") else Path(filename).suffix.lower() or ".bin"
    return f"source{suffix}"


def _write_whole(path: Path, data: bytes) -> None:
    # Written aside and renamed: whoever finds `source.*` (another front end taking the
    # conversion over, on the shared folder) finds all of it or nothing.
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


async def save_source(data: bytes, filename: str, folder: Path) -> Path:
    """Keep a document's bytes in `folder`, whole or not at all; returns the file."""
    source = folder / source_name(data, filename)
    await asyncio.to_thread(_write_whole, source, data)
    return source


def _head(source: Path) -> tuple[int, bytes]:
    with source.open("rb") as file:
        return os.fstat(file.fileno()).st_size, file.read(16)


async def convert_file(
    source: Path, filename: str, out: Path, limits: Limits, progress: Progress | None = None
) -> int:
    """Convert a kept document (see save_source) into pages in `out`; returns how many."""
    size, head = await asyncio.to_thread(_head, source)
    if size > limits.max_bytes:
        raise ConversionError(
            f"The document is larger than {limits.max_bytes // (1024 * 1024)} MiB"
        )
    kind = kind_of(head, filename)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    if kind == "image":
        return await asyncio.to_thread(render_image, source, out, limits)
    pdf = source if kind == "pdf" else await office_to_pdf(source, out, limits)
    return await render_pdf(pdf, out, limits, progress)


async def convert(
    data: bytes, filename: str, out: Path, limits: Limits, progress: Progress | None = None
) -> int:
    """Convert a document into `out`, kept there as `source.*`; returns its number of pages."""
    if len(data) > limits.max_bytes:
        raise ConversionError(
            f"The document is larger than {limits.max_bytes // (1024 * 1024)} MiB"
        )
    kind_of(data, filename)  # refused before anything is written
    source = await save_source(data, filename, out)
    return await convert_file(source, filename, out, limits, progress)
