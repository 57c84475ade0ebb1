"""Documents made on the spot for the presentation tests: PDFs of N numbered pages, images, and
broken or hostile files."""

from __future__ import annotations

import io
import zipfile
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


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'office:version="1.3"'
)


def _odf(mimetype: str, body: str, styles: str = "") -> bytes:
    """An OpenDocument package: the mimetype stored first, a manifest and content.xml."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}>'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        f"<office:body>{body}</office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def odt(pages: int) -> bytes:
    """A text document of `pages` pages, each starting with a page break."""
    paragraphs = "".join(
        f'<text:p text:style-name="{"Break" if n > 1 else "Plain"}">Chapter {n}</text:p>'
        for n in range(1, pages + 1)
    )
    styles = (
        '<style:style style:name="Break" style:family="paragraph">'
        '<style:paragraph-properties fo:break-before="page"/></style:style>'
        '<style:style style:name="Plain" style:family="paragraph"/>'
    )
    return _odf(
        "application/vnd.oasis.opendocument.text",
        f"<office:text>{paragraphs}</office:text>",
        styles,
    )


def odp(slides: int) -> bytes:
    """A presentation of `slides` slides with a title each."""
    pages = "".join(
        f'<draw:page draw:name="s{n}"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" '
        f'svg:height="3cm"><draw:text-box><text:p>Slide {n}</text:p></draw:text-box>'
        "</draw:frame></draw:page>"
        for n in range(1, slides + 1)
    )
    return _odf(
        "application/vnd.oasis.opendocument.presentation",
        f"<office:presentation>{pages}</office:presentation>",
    )
