// Pointers on the slide (protocol v2): the presenter's, shown to everybody, and with the
// multi-user whiteboard everybody's cursor. Moves are sent at most 14 times a second (the
// server's budget is 15), the last position always; leaving the slide sends null. Others'
// pointers arrive as `pointer` {user, name, x, y}; one fades after a few idle seconds and goes
// when it is hidden, its owner leaves, the page turns or the multi-user whiteboard ends.
import { signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { on, users } from "../../core/store.js";

const EVERY_MS = 1000 / 14;
const IDLE_MS = 3000;
const FADE_MS = 700;

/** Map user id → {name, x, y, idle} of the pointers others show on this page. */
export const pointers = signal(new Map());
/** This page's own laser dot while the pointer tool is chosen: {x, y} or null. */
export const ownPointer = signal(null);

const idleTimers = new Map();

function put(user, value) {
  const next = new Map(pointers.value);
  if (value) next.set(user, value);
  else next.delete(user);
  pointers.value = next;
}

function forget(user) {
  clearTimeout(idleTimers.get(user));
  idleTimers.delete(user);
  put(user, null);
}

on("pointer", (m) => {
  if (m.x === null || m.y === null) return forget(m.user);
  clearTimeout(idleTimers.get(m.user));
  put(m.user, { name: m.name, x: m.x, y: m.y, idle: false });
  idleTimers.set(m.user, setTimeout(() => {
    const shown = pointers.value.get(m.user);
    if (shown) put(m.user, { ...shown, idle: true });
    idleTimers.set(m.user, setTimeout(() => forget(m.user), FADE_MS)); // once faded
  }, IDLE_MS));
});
on("user.left", (m) => forget(m.user));
on("presentation.page", () => [...pointers.value.keys()].forEach(forget));
on("whiteboard.multi", (m) => {
  if (m.enabled) return;
  for (const user of pointers.value.keys()) if (!users.value.get(user)?.presenter) forget(user);
});

// ----------------------------------------------------------------------------- sending --
let lastSent = 0;
let waiting = null; // the latest position, while a send waits for its turn
let timer = null;
let shown = false;

function flush() {
  timer = null;
  if (!waiting) return;
  lastSent = performance.now();
  send({ type: "pointer.move", x: waiting[0], y: waiting[1] });
  shown = true;
  waiting = null;
}

const round = (v) => Math.round(Math.min(1.5, Math.max(-0.5, v)) * 10000) / 10000;

/** The pointer is at (x, y), fractions of the slide. */
export function pointAt(x, y) {
  waiting = [round(x), round(y)];
  if (timer) return;
  const wait = EVERY_MS - (performance.now() - lastSent);
  if (wait <= 0) flush();
  else timer = setTimeout(flush, wait);
}

/** The pointer left the slide: hide it for everybody. */
export function pointAway() {
  clearTimeout(timer);
  timer = null;
  waiting = null;
  if (!shown) return;
  shown = false;
  lastSent = performance.now();
  send({ type: "pointer.move", x: null, y: null });
}
