// The room's one WebSocket (docs/protocol.md): hello, keep-alive pings, reconnection with
// back-off, and the close codes that mean "stop trying". Messages go to store.dispatch.
// Before every (re)connection the page asks /room/route where its meeting lives: in a
// cluster that is the path of the front end owning the meeting, which can change when one dies.
import { dispatch, phase } from "./store.js";

// sala/room/close_codes.py: why the server closed, and whether this page may try again.
export const CLOSE = { LOGGED_OUT: 4401, FORBIDDEN: 4403, REPLACED: 4409, GONE: 4410, MOVED: 4421 };
const DEFAULT_PATH = "/room/ws";
const PROTOCOL_VERSION = 3;
const PING_MS = 20000;

let socket = null;
let retry = 0;
let pingTimer = null;
let movedAt = 0;

/** Sends if connected; false while (re)connecting, so a composer can keep what was typed. */
export function send(message) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}

async function route() {
  try {
    const answer = await fetch("/room/route", { credentials: "same-origin", cache: "no-store" });
    if (answer.ok) {
      const { ws } = await answer.json();
      if (typeof ws === "string" && ws.startsWith("/")) return ws;
    }
  } catch {
    // Unreachable for now: the WebSocket attempt fails too and the back-off applies.
  }
  return DEFAULT_PATH;
}

export async function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = await route();
  socket = new WebSocket(`${scheme}//${location.host}${path}`);
  socket.onopen = () => {
    retry = 0;
    send({ type: "hello", version: PROTOCOL_VERSION });
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping" }), PING_MS);
  };
  socket.onmessage = (event) => dispatch(JSON.parse(event.data));
  socket.onclose = (event) => {
    clearInterval(pingTimer);
    if (phase.value.kind === "final") return;
    if (event.code === CLOSE.LOGGED_OUT) return void (phase.value = { kind: "notice", key: "loggedOut" });
    // A newer tab took over: do not fight it.
    if (event.code === CLOSE.REPLACED) return void (phase.value = { kind: "notice", key: "replaced" });
    if (event.code === CLOSE.FORBIDDEN || event.code === CLOSE.GONE) return;
    phase.value = { ...phase.value, reconnecting: true };
    // Moved to another front end: go there at once, unless it just happened (a stale route).
    if (event.code === CLOSE.MOVED && Date.now() - movedAt > 2000) {
      movedAt = Date.now();
      return void setTimeout(connect, 50);
    }
    // At most 8 s apart: a front end that died is replaced within seconds (its lease lapses).
    retry = Math.min(retry + 1, 5);
    setTimeout(connect, 250 * 2 ** retry);
  };
}
