// The room's one WebSocket (docs/protocol.md): hello, keep-alive pings, reconnection with
// back-off, and the close codes that mean "stop trying". Messages go to store.dispatch.
import { dispatch, phase } from "./store.js";

// sala/room/close_codes.py: why the server closed, and whether this page may try again.
export const CLOSE = { LOGGED_OUT: 4401, FORBIDDEN: 4403, REPLACED: 4409, GONE: 4410 };
const PROTOCOL_VERSION = 2;
const PING_MS = 20000;

let socket = null;
let retry = 0;
let pingTimer = null;

export function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

export function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/room/ws`);
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
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 250 * 2 ** retry);
  };
}
