"""Presentations: conversion time per page, and how fast a whiteboard stroke reaches 100 viewers.

    .venv/bin/python -m bench.presentation [--pages 50] [--viewers 100] [--strokes 50]
        [--office-slides 20] [--json out.json]

1. Conversion: a PDF of `--pages` pages (each a 1280×720 image with text, written by Pillow) is
   converted the way sala converts uploads (pdfinfo, then pdftoppm for slides and thumbnails),
   three times; the median wall time is printed in total and per page, with the CPU the
   converters used. When LibreOffice is installed, the same for an OpenDocument presentation of
   `--office-slides` slides (LibreOffice to PDF, then the same rendering).
2. Stroke fan-out: a fresh `sala serve` on loopback, one meeting, the presenter and `--viewers`
   viewers on the room WebSocket (the same client the room tests use). The presenter sends
   `--strokes` pen strokes (60 points each), one at a time; for each, the time from sending it to
   the moment the last viewer has it. p50, p95 and max are printed, with sala's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.api import process_cpu, sala_revision
from sala.presentations.convert import Limits, convert
from tests.presentations.documents import odp, pdf

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-presentation-secret"


async def conversion(document: bytes, name: str, pages: int, workdir: Path) -> dict[str, Any]:
    times = []
    cpu = []
    for run in range(3):
        before = os.times()
        started = time.perf_counter()
        made = await convert(document, name, workdir / f"{name}-{run}", Limits())
        times.append(time.perf_counter() - started)
        after = os.times()
        cpu.append(
            after.children_user
            + after.children_system
            - before.children_user
            - before.children_system
        )
        assert made == pages
    total = statistics.median(times)
    return {
        "pages": pages,
        "bytes": len(document),
        "seconds": total,
        "per_page_ms": 1000 * total / pages,
        "cpu_seconds": statistics.median(cpu),
    }


async def fan_out(viewers: int, strokes: int, workdir: Path) -> dict[str, Any]:
    from tests.conftest import free_port
    from tests.room.conftest import RoomClient, RoomServer

    data_dir = workdir / "data"
    data_dir.mkdir()
    port = free_port()
    env = {**os.environ, "SALA_DATA_DIR": str(data_dir), "SALA_SECRET": SECRET,
           "SALA_LOG_LEVEL": "warning", "SALA_MEDIA": "false"}  # fmt: skip
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sala", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import httpx

    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(300):
                try:
                    if (await http.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            room = RoomServer(base, SECRET, None, http)  # type: ignore[arg-type]
            meeting_id = await room.create()
            presenter = await RoomClient.open(
                room, await room.session(meeting_id, "P", "MODERATOR")
            )
            welcome = await presenter.welcomed()
            where = {"presentation": welcome["current"], "page": 1}
            clients = []
            for n in range(viewers):
                client = await RoomClient.open(room, await room.session(meeting_id, f"V{n}"))
                await client.welcomed()
                clients.append(client)
            await asyncio.sleep(1.0)
            for client in [presenter, *clients]:
                client.inbox.clear()
            cpu0 = process_cpu(server.pid)
            t0 = time.monotonic()
            latencies = []
            for n in range(strokes):
                shape = {
                    "id": f"s{n}",
                    "tool": "pen",
                    "points": [[0.1 + i / 100, 0.5 + (i % 7) / 100] for i in range(60)],
                }
                sent = time.perf_counter()
                await presenter.send({"type": "draw.add", **where, "shape": shape})
                await asyncio.gather(
                    *(
                        c.expect(
                            "draw.added",
                            within=10,
                            where=lambda m, n=n: m["shape"]["id"] == f"s{n}",
                        )
                        for c in clients
                    )
                )
                latencies.append(1000 * (time.perf_counter() - sent))
            wall = time.monotonic() - t0
            cpu = 100 * (process_cpu(server.pid) - cpu0) / wall
            for client in [presenter, *clients]:
                await client.close()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 20)
    ordered = sorted(latencies)
    return {
        "viewers": viewers,
        "strokes": strokes,
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
        "server_cpu_pct": cpu,
    }


async def amain(args: argparse.Namespace) -> int:
    print(f"command: {' '.join(sys.argv)}")
    print(f"sala: {sala_revision()}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="sala-bench-presentation-") as tmp:
        document = await asyncio.to_thread(pdf, args.pages, (1280, 720))
        converted = await conversion(document, "bench.pdf", args.pages, Path(tmp))
        print(
            f"\nconversion of a {converted['pages']}-page PDF ({converted['bytes'] // 1024} KiB):"
            f" {converted['seconds']:.2f} s = {converted['per_page_ms']:.0f} ms per page"
            f" (median of 3; converters' CPU {converted['cpu_seconds']:.2f} s)"
        )
        office = None
        if shutil.which("soffice") and args.office_slides:
            office = await conversion(
                odp(args.office_slides), "bench.odp", args.office_slides, Path(tmp)
            )
            print(
                f"conversion of a {office['pages']}-slide ODP through LibreOffice:"
                f" {office['seconds']:.2f} s = {office['per_page_ms']:.0f} ms per slide"
                f" (median of 3; converters' CPU {office['cpu_seconds']:.2f} s)"
            )
        spread = await fan_out(args.viewers, args.strokes, Path(tmp))
        print(
            f"stroke fan-out to {spread['viewers']} viewers ({spread['strokes']} strokes of 60"
            f" points): p50 {spread['p50_ms']:.1f} ms, p95 {spread['p95_ms']:.1f} ms,"
            f" max {spread['max_ms']:.1f} ms; sala {spread['server_cpu_pct']:.0f}% of a core"
        )
    if args.json:
        await asyncio.to_thread(
            Path(args.json).write_text,
            json.dumps({"conversion": converted, "office": office, "fan_out": spread}, indent=2),
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--strokes", type=int, default=50)
    parser.add_argument("--office-slides", type=int, default=20)
    parser.add_argument("--json")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
