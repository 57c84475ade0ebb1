"""sala's own default presentation: a one-page 16:9 PDF written here, so no binary file ships.

Operators replace it with `SALA_DEFAULT_PRESENTATION` (a PDF path).
"""

from __future__ import annotations

WIDTH, HEIGHT = 960, 540


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def default_pdf(title: str = "sala", subtitle: str = "Welcome") -> bytes:
    """A valid PDF 1.4 page: a title and a subtitle in Helvetica on a light background."""
    content = "\n".join(
        [
            "0.95 0.96 0.98 rg",
            f"0 0 {WIDTH} {HEIGHT} re f",
            "0.15 0.35 0.65 rg",
            f"0 {HEIGHT - 12} {WIDTH} 12 re f",
            "0.1 0.1 0.15 rg",
            "BT /F1 72 Tf 80 300 Td",
            f"({_escape(title)}) Tj ET",
            "0.35 0.35 0.4 rg",
            "BT /F1 32 Tf 80 240 Td",
            f"({_escape(subtitle)}) Tj ET",
        ]
    ).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    return write_pdf(objects)


def write_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1; object 1 is the catalog), with the
    cross-reference table readers need."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
