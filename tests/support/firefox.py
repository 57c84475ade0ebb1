"""Firefox (Debian's firefox-esr) driven over WebDriver BiDi, the protocol Firefox speaks itself.

Playwright only drives its own Firefox build, which cannot be downloaded here, so the few checks
that must run in Firefox use this: start a headless Firefox with a throwaway profile, open a
page, evaluate JavaScript and read the result back (as JSON). The profile turns off everything
that would reach the network on its own (updates, telemetry, remote settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
PREFS = {
    "media.autoplay.default": 0,
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "toolkit.telemetry.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False,
}


class Firefox:
    def __init__(self, ws: Any, context: str) -> None:
        self._ws = ws
        self._context = context
        self._ids = itertools.count(1)

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        call_id = next(self._ids)
        await self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self._ws.recv(), 60))
            if message.get("id") != call_id:
                continue  # an event
            if message.get("type") == "error":
                raise RuntimeError(f"{method}: {message.get('error')}: {message.get('message')}")
            result: dict[str, Any] = message["result"]
            return result

    async def goto(self, url: str) -> None:
        await self._call(
            "browsingContext.navigate",
            {"context": self._context, "url": url, "wait": "complete"},
        )

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise), through JSON."""
        result = await self._call(
            "script.evaluate",
            {
                "expression": f"(async () => JSON.stringify(await ({expression})))()",
                "target": {"context": self._context},
                "awaitPromise": True,
            },
        )
        if result.get("type") == "exception":
            raise RuntimeError(f"page error: {result['exceptionDetails'].get('text')}")
        return json.loads(result["result"]["value"])

    async def wait_for(self, expression: str, within: float = 20.0) -> Any:
        """Until the expression is truthy; returns its value."""
        for _ in range(int(within / 0.25)):
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.25)
        raise AssertionError(f"not within {within} s in Firefox: {expression}")


@contextlib.asynccontextmanager
async def firefox() -> AsyncIterator[Firefox]:
    if FIREFOX is None:
        raise RuntimeError("Firefox is needed: run scripts/install-test-deps")
    with tempfile.TemporaryDirectory(prefix="sala-firefox-") as profile:
        lines = "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        await asyncio.to_thread(Path(profile, "user.js").write_text, lines)
        process = await asyncio.create_subprocess_exec(
            FIREFOX, "--headless", "--no-remote", "--profile", profile,
            "--remote-debugging-port", "0", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stderr is not None
            address = None
            for _ in range(200):
                line = await asyncio.wait_for(process.stderr.readline(), 60)
                found = re.search(rb"WebDriver BiDi listening on (ws://\S+)", line)
                if found:
                    address = found.group(1).decode()
                    break
                if not line:
                    break
            if address is None:
                raise RuntimeError("Firefox did not start its WebDriver BiDi server")
            drain = asyncio.create_task(_drain(process.stderr))
            async with websockets.connect(f"{address}/session", max_size=None) as ws:
                browser = Firefox(ws, "")
                await browser._call("session.new", {"capabilities": {}})
                tree = await browser._call("browsingContext.getTree", {})
                browser._context = tree["contexts"][0]["context"]
                yield browser
            drain.cancel()
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass
