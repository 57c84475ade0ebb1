"""The `video` format: one MP4 (H.264 and AAC) laid out as the meeting was used.

The main area shows the slide with its drawings and zoom, or the screen while somebody shares
it; webcams stand in a column beside it (up to three at a time, in order of arrival). Slides are
drawn by Pillow, one image per change (page, drawing, zoom), and shown for as long as each
lasted; ffmpeg then lays the webcams and screens over them at their recorded moments, adds the
voice track and encodes once. No layout at all is made for streams that never overlapped a
recorded segment.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageColor, ImageDraw, ImageFont

from sala.recordings.formats.common import Material
from sala.recordings.streams import Stream
from sala.recordings.timeline import WHOLE
from sala.recordings.tools import run as run_tool
from sala.room.protocol import NOTE_SIZE

FORMAT = "video"
WIDTH, HEIGHT = 1280, 720
COLUMN = 320
"""The webcams' column, when there are webcams."""
SLOTS = 3
FPS = 15
BACKGROUND = (24, 26, 31)


async def build(material: Material, out: Path) -> dict[str, Any]:
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    work = out.parent / "work" / "video"
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    videos = material.videos()
    cameras = [(s, p) for s, p in videos if s.kind == "camera"]
    main_w = WIDTH - COLUMN if cameras else WIDTH
    frames = await asyncio.to_thread(_slide_frames, material, work, main_w, HEIGHT)
    duration_s = material.clock.duration_ms / 1000
    concat = work / "slides.ffconcat"
    lines = ["ffconcat version 1.0"]
    for path, seconds in frames:
        lines += [f"file '{path.name}'", f"duration {seconds:.3f}"]
    lines.append(f"file '{frames[-1][0].name}'")
    await asyncio.to_thread(concat.write_text, "\n".join(lines) + "\n")

    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "concat", "-safe", "0", "-i", str(concat), "-i", str(material.mix)]
    graph = [
        f"[0:v]fps={FPS},scale={main_w}:{HEIGHT},setsar=1,"
        f"pad={WIDTH}:{HEIGHT}:0:0:color=0x181a1f,format=yuv420p[base0]"
    ]
    base = "base0"
    n_input = 2
    overlays: list[tuple[Stream, int, int, int, str, int, int, int, int]] = []
    slots = _assign_slots(cameras)
    for stream, pieces in videos:
        for start, end, rec in pieces:
            if stream.kind == "screen":
                box = (0, 0, main_w, HEIGHT)
            else:
                slot = slots.get((stream.file.name, rec))
                if slot is None:
                    continue
                h = HEIGHT // SLOTS
                box = (WIDTH - COLUMN, slot * h, COLUMN, h)
            overlays.append((stream, start, end, rec, stream.kind, *box))
    # Screens first, so webcams are never hidden under them.
    overlays.sort(key=lambda o: (o[4] != "screen", o[3]))
    for stream, start, end, rec, _kind, x, y, w, h in overlays:
        offset = (start - stream.first_ms) / 1000
        length = (end - start) / 1000
        argv += ["-ss", f"{offset:.3f}", "-t", f"{length:.3f}", "-i", str(stream.file)]
        a, b = rec / 1000, rec / 1000 + length
        graph.append(
            f"[{n_input}:v]setpts=PTS-STARTPTS+{a:.3f}/TB,fps={FPS},"
            f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=0x000000[o{n_input}]"
        )
        graph.append(
            f"[{base}][o{n_input}]overlay={x}:{y}:eof_action=pass:"
            f"enable='between(t,{a:.3f},{b:.3f})'[b{n_input}]"
        )
        base = f"b{n_input}"
        n_input += 1
    argv += ["-filter_complex", ";".join(graph), "-map", f"[{base}]", "-map", "1:a"]
    argv += ["-t", f"{duration_s:.3f}", "-r", str(FPS), "-c:v", "libx264", "-preset", "veryfast"]
    argv += ["-tune", "stillimage", "-crf", "30", "-pix_fmt", "yuv420p", "-g", str(FPS * 10)]
    argv += ["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(out / "partial.mp4")]
    await run_tool(argv, timeout_s=max(300.0, duration_s * 2))
    (out / "partial.mp4").replace(out / "video.mp4")
    return {
        "length_ms": material.clock.duration_ms,
        "size": (out / "video.mp4").stat().st_size,
        "preview": [],
    }


def _assign_slots(
    cameras: list[tuple[Stream, list[tuple[int, int, int]]]],
) -> dict[tuple[str, int], int]:
    """A column slot for each recorded piece of each webcam: the lowest slot free for the whole
    piece; pieces that find none (a fourth webcam at once) are not shown."""
    pieces = sorted(
        (rec, rec + end - start, stream.file.name)
        for stream, found in cameras
        for start, end, rec in found
    )
    busy_until = [-1] * SLOTS
    slots: dict[tuple[str, int], int] = {}
    for rec, until, name in pieces:
        for slot in range(SLOTS):
            if busy_until[slot] <= rec:
                busy_until[slot] = until
                slots[(name, rec)] = slot
                break
    return slots


# ----------------------------------------------------------------------------- slides --
def _slide_frames(
    material: Material, work: Path, width: int, height: int
) -> list[tuple[Path, float]]:
    """One image per change of what the main area shows, with how long it stays (seconds)."""
    timeline = material.timeline
    moments = sorted(
        {0}
        | {c["t"] for c in timeline.slides}
        | {c["t"] for c in timeline.drawings}
        | {c["t"] for c in timeline.zooms}
    )
    moments = [t for t in moments if t < max(1, timeline.duration_ms)]
    frames: list[tuple[Path, float]] = []
    shapes: dict[tuple[str, int], list[dict[str, Any]]] = {}
    drawings = iter(timeline.drawings)
    pending = next(drawings, None)
    cache: dict[str, Image.Image] = {}
    for index, moment in enumerate(moments):
        while pending is not None and pending["t"] <= moment:
            key = (pending["presentation"], pending["page"])
            if "add" in pending:
                shapes.setdefault(key, []).append(pending["add"])
            else:
                gone = set(pending["remove"])
                shapes[key] = [s for s in shapes.get(key, []) if s["id"] not in gone]
            pending = next(drawings, None)
        shown = _last_before(timeline.slides, moment)
        view = _last_before(timeline.zooms, moment) or WHOLE
        image = Image.new("RGB", (width, height), BACKGROUND)
        if shown is not None:
            slide = _slide(material, shown["presentation"], shown["page"], cache)
            if slide is not None:
                _draw_slide(
                    image, slide, view, shapes.get((shown["presentation"], shown["page"]), [])
                )
        path = work / f"slide-{index:05d}.png"
        image.save(path, compress_level=1)
        until = moments[index + 1] if index + 1 < len(moments) else timeline.duration_ms
        frames.append((path, max(0.001, (until - moment) / 1000)))
    return frames


def _last_before(changes: list[dict[str, Any]], moment: int) -> dict[str, Any] | None:
    found = None
    for change in changes:
        if change["t"] > moment:
            break
        found = change
    return found


def _slide(
    material: Material, document: str, page: int, cache: dict[str, Image.Image]
) -> Image.Image | None:
    path = material.raw / "slides" / document / f"{page}.png"
    key = str(path)
    if key not in cache:
        if not path.exists():
            return None
        with Image.open(path) as opened:
            cache[key] = opened.convert("RGB")
    return cache[key]


def _draw_slide(
    canvas: Image.Image, slide: Image.Image, view: dict[str, Any], shapes: list[dict[str, Any]]
) -> None:
    """The zoomed part of the slide with its drawings, fitted into the canvas."""
    sw, sh = slide.size
    board = slide.copy()
    _draw_shapes(board, shapes)
    crop = (
        int(view["x"] * sw),
        int(view["y"] * sh),
        int(min(1.0, view["x"] + view["w"]) * sw),
        int(min(1.0, view["y"] + view["h"]) * sh),
    )
    part = board.crop(crop)
    cw, ch = canvas.size
    scale = min(cw / part.width, ch / part.height)
    fitted = part.resize((max(1, int(part.width * scale)), max(1, int(part.height * scale))))
    canvas.paste(fitted, ((cw - fitted.width) // 2, (ch - fitted.height) // 2))


def _draw_shapes(board: Image.Image, shapes: list[dict[str, Any]]) -> None:
    draw = ImageDraw.Draw(board)
    w, h = board.size
    for shape in shapes:
        points = [(x * w, y * h) for x, y in shape.get("points", [])]
        if not points:
            continue
        color = shape.get("color") or "#e11d48"
        width = max(2, int(float(shape.get("width") or 0.004) * w))
        tool = shape.get("tool")
        (x0, y0), (x1, y1) = points[0], points[-1]
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if tool == "pen":
            draw.line(points, fill=color, width=width, joint="curve")
        elif tool == "line":
            draw.line([points[0], points[-1]], fill=color, width=width)
        elif tool == "rect":
            draw.rectangle(box, outline=color, width=width)
        elif tool == "ellipse":
            draw.ellipse(box, outline=color, width=width)
        elif tool == "text":
            draw.text((x0, y0), str(shape.get("text", "")), fill=color, font=_font(int(h * 0.04)))
        elif tool == "poll":
            _draw_poll(draw, box, shape, h)
        elif tool == "highlighter":
            _draw_highlight(board, points, color, width)
            draw = ImageDraw.Draw(board)
        elif tool == "arrow":
            _draw_arrow(draw, points[0], points[-1], color, width)
        elif tool == "note":
            if len(points) == 1:
                box = (x0, y0, x0 + NOTE_SIZE * w, y0 + NOTE_SIZE * h)
            _draw_note(draw, box, shape, color, h)


HIGHLIGHT_ALPHA = 96
"""A highlighter stroke lets the slide show through (of 255)."""


def _draw_highlight(
    board: Image.Image, points: list[tuple[float, float]], color: str, width: int
) -> None:
    overlay = Image.new("RGBA", board.size, (0, 0, 0, 0))
    red, green, blue = ImageColor.getrgb(color)[:3]
    ImageDraw.Draw(overlay).line(
        points, fill=(red, green, blue, HIGHLIGHT_ALPHA), width=width, joint="curve"
    )
    mixed = Image.alpha_composite(board.convert("RGBA"), overlay).convert(board.mode)
    board.paste(mixed)


def _draw_arrow(
    draw: ImageDraw.ImageDraw,
    tail: tuple[float, float],
    head: tuple[float, float],
    color: str,
    width: int,
) -> None:
    draw.line([tail, head], fill=color, width=width)
    angle = math.atan2(head[1] - tail[1], head[0] - tail[0])
    size = max(8.0, width * 4.0)
    wings = [
        (head[0] - size * math.cos(angle + side), head[1] - size * math.sin(angle + side))
        for side in (math.pi / 7, -math.pi / 7)
    ]
    draw.polygon([head, *wings], fill=color)


def _draw_note(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    shape: dict[str, Any],
    color: str,
    h: int,
) -> None:
    draw.rectangle(box, fill=color, outline=(31, 41, 55), width=1)
    x0, y0 = box[0], box[1]
    font = _font(max(8, int(h * 0.025)))
    draw.multiline_text((x0 + 6, y0 + 6), str(shape.get("text", "")), fill=(17, 24, 39), font=font)


def _draw_poll(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], shape: dict[str, Any], h: int
) -> None:
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=8, fill=(255, 255, 255), outline=(31, 41, 55), width=2)
    result = shape.get("result", [])
    line = (y1 - y0) / (len(result) + 1)
    font = _font(int(min(h * 0.035, line * 0.6)))
    draw.text((x0 + 10, y0 + line * 0.2), str(shape.get("text", "")), fill=(31, 41, 55), font=font)
    most = max([1] + [int(c["votes"]) for c in result])
    responders = int(shape.get("responders") or 0)
    for i, count in enumerate(result):
        top = y0 + line * (i + 1)
        votes = int(count["votes"])
        share = round(100 * votes / responders) if responders else 0
        draw.text(
            (x0 + 10, top + line * 0.2),
            f"{count['key']}: {votes} ({share}%)",
            fill=(31, 41, 55),
            font=font,
        )
        left = x0 + (x1 - x0) * 0.55
        right = left + max(2.0, (x1 - x0) * 0.4 * votes / most)
        draw.rectangle((left, top + line * 0.2, right, top + line * 0.8), fill=(37, 99, 235))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=max(8, size))
    except TypeError:  # Pillow before 10.1 has one size only
        return ImageFont.load_default()
