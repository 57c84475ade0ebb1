"""The video format draws the version-2 shapes: a translucent highlighter, an arrow with its
head, a sticky note with its text."""

from __future__ import annotations

from PIL import Image

from sala.recordings.formats.video import _draw_shapes


def test_highlighter_arrow_and_note_are_drawn() -> None:
    board = Image.new("RGB", (400, 300), (255, 255, 255))
    _draw_shapes(
        board,
        [
            {
                "id": "h",
                "tool": "highlighter",
                "points": [[0.1, 0.1], [0.4, 0.1]],
                "color": "#ff0000",
                "width": 0.03,
            },
            {"id": "a", "tool": "arrow", "points": [[0.1, 0.5], [0.4, 0.5]], "color": "#0000ff"},
            {"id": "n", "tool": "note", "points": [[0.6, 0.6]], "text": "Hi", "color": "#fef08a"},
        ],
    )
    red, green, blue = board.getpixel((100, 30))  # type: ignore[misc]
    assert red == 255 and 100 < green < 255 and green == blue  # the slide shows through
    assert board.getpixel((100, 150)) == (0, 0, 255)
    assert board.getpixel((153, 147)) == (0, 0, 255)  # the head, wider than the line
    assert board.getpixel((120, 153)) == (255, 255, 255)
    assert board.getpixel((290, 215)) == (0xFE, 0xF0, 0x8A)  # inside the note's default size
