"""Documents made on the spot for the presentation tests: PDFs of N numbered pages, images, and
broken or hostile files."""

from __future__ import annotations

import io
import zlib

from PIL import Image, ImageDraw

from sala.presentations.default_pdf import write_pdf


def pdf(pages: int, size: tuple[int, int] = (320, 180)) -> bytes:
    """A PDF whose page n shows the number n (Pillow writes it)."""
    images = []
    for n in range(1, pages + 1):
        image = Image.new("RGB", size, (240, 244, 250))
        ImageDraw.Draw(image).text((20, 20), f"page {n}", fill=(20, 20, 40))
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def png(size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def pixel_bomb() -> bytes:
    """A tiny PNG that claims 30,000 × 30,000 pixels: decoding it would need gigabytes."""
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, format="PNG")
    return out.getvalue()


def corrupted_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"\x00garbage that is not a PDF body\n" * 200 + b"%%EOF\n"


def stream_bomb_pdf() -> bytes:
    """One page whose content stream inflates to 128 MiB of drawing operators."""
    operators = b"0 0 m 1 1 l S\n" * (128 * 1024 * 1024 // 14)
    packed = zlib.compress(operators, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length "
        + str(len(packed)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + packed
        + b"\nendstream",
    ]
    return write_pdf(objects)
