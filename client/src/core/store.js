// The room's state as signals, and the dispatch of server messages to whoever handles them.
// Core state (who I am, the meeting, people, locks, lobby, phase of the page) lives here; each
// feature keeps its own signals in its folder and registers its message handlers with on().
import { batch, computed, signal } from "@preact/signals";
import { setLocale, t } from "./i18n.js";

/** connecting | lobby | room | notice (a stop with a message) | final (left, ended, removed). */
export const phase = signal({ kind: "connecting" });
export const me = signal(null);
export const meeting = signal(null);
export const users = signal(new Map());
export const locks = signal({});
export const lobby = signal([]);
export const userdata = signal({});
export const toasts = signal([]);
export const announcement = signal("");

export const isModerator = computed(() => me.value?.role === "MODERATOR");
export const isPresenter = computed(() => Boolean(me.value?.presenter));

/** disabledFeatures from create, as the meeting reported it. */
export function disabled(feature) {
  return Boolean(meeting.value?.disabledFeatures?.includes(feature));
}

/** A lock setting that applies to me: viewers are locked, moderators never. */
export function lockedForMe(lock) {
  return me.value?.role === "VIEWER" && Boolean(locks.value[lock]);
}

/** A userdata-bbb_* flag from join, with BBB's default when absent. */
export function flag(key, byDefault) {
  const value = userdata.value[key];
  return value === undefined ? byDefault : String(value).toLowerCase() === "true";
}

const handlers = new Map();
const interceptors = [];

/** Calls fn for every server message of this type (several handlers may listen to one type). */
export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, []);
  handlers.get(type).push(fn);
}

/** fn sees every message first and returns true when it consumed it (the media engine does). */
export function intercept(fn) {
  interceptors.push(fn);
}

export function dispatch(message) {
  batch(() => {
    for (const fn of interceptors) if (fn(message)) return;
    for (const fn of handlers.get(message.type) || []) fn(message);
  });
}

let toastId = 0;
export function toast(text, { kind = "info", ms = 4000 } = {}) {
  const id = ++toastId;
  toasts.value = [...toasts.value.slice(-3), { id, text, kind }];
  setTimeout(() => (toasts.value = toasts.value.filter((x) => x.id !== id)), ms);
  announce(text);
}

/** Says text to screen readers through the page's polite live region. */
export function announce(text) {
  // Setting the same text twice would not be read again: clear first.
  announcement.value = "";
  queueMicrotask(() => (announcement.value = text));
}

export function finish(key, logoutUrl) {
  phase.value = { kind: "final", key, link: logoutUrl || null };
  if (logoutUrl) setTimeout(() => (location.href = logoutUrl), 5000);
}

// The roster (docs/protocol.md, "Presence"): the welcome's snapshot, then batched deltas. A
// delta carries each changed person's whole record, or their leaving; one not after the
// snapshot (its `seq` not above ours) is already in it. Each delta makes one new Map, however
// many people it names, and the features hear of each change as user.joined, user.updated or
// user.left, as before.
let usersSeq = 0;
const MANY = 3; // more joins or leaves than this in one delta are announced as a count

function emit(type, message) {
  for (const fn of handlers.get(type) || []) fn(message);
}

function applyDelta(m) {
  if (m.seq <= usersSeq) return;
  usersSeq = m.seq;
  const before = users.value;
  const next = new Map(before);
  const changes = [];
  for (const user of m.set) {
    const known = before.get(user.id);
    next.set(user.id, user);
    changes.push([known ? "user.updated" : "user.joined", { user }, known]);
    if (me.value && user.id === me.value.id) me.value = user;
  }
  for (const id of m.gone) {
    if (!next.delete(id)) continue;
    changes.push(["user.left", { user: id }, before.get(id)]);
  }
  users.value = next;
  const joined = changes.filter(([type]) => type === "user.joined");
  const left = changes.filter(([type]) => type === "user.left");
  for (const [type, message, known] of changes) {
    emit(type, message);
    if (type === "user.updated" && !known.hand && message.user.hand) announce(t("handRaisedBy", { name: message.user.name }));
  }
  if (phase.value.kind !== "room") return;
  if (joined.length > MANY) announce(t("usersJoined", { count: joined.length }));
  else for (const [, message] of joined) announce(t("userJoined", { name: message.user.name }));
  if (left.length > MANY) announce(t("usersLeft", { count: left.length }));
  else for (const [, , known] of left) announce(t("userLeft", { name: known.name }));
}

// bbb_custom_style(_url): served sanitised from this origin (sala/room/custom_style.py), linked
// after the room's styles so that it wins.
function applyCustomStyle(data) {
  if (!(data.bbb_custom_style || data.bbb_custom_style_url) || document.getElementById("custom-style")) return;
  const link = document.createElement("link");
  link.id = "custom-style";
  link.rel = "stylesheet";
  link.href = "/room/custom.css";
  document.head.append(link);
}

on("welcome", (m) => {
  setLocale(m.locale);
  applyCustomStyle(m.userdata || {});
  me.value = m.you;
  meeting.value = m.meeting;
  locks.value = m.locks;
  lobby.value = m.lobby;
  users.value = new Map(m.users.map((u) => [u.id, u]));
  usersSeq = m.usersSeq || 0;
  userdata.value = m.userdata || {};
  document.title = m.userdata?.bbb_client_title || m.meeting.name; // userdata-bbb_client_title
  phase.value = { kind: "room" };
  setTimeout(() => performance.mark("sala:interactive")); // after the render (bench/client.py)
});
on("lobby.waiting", (m) => {
  setLocale(m.locale);
  meeting.value = { ...(meeting.value || {}), name: m.meeting.name };
  phase.value = { kind: "lobby" };
});
on("lobby.message", (m) => toast(m.text));
on("guest.denied", (m) => finish("denied", m.logoutUrl));
on("removed", (m) => finish("removed", m.logoutUrl));
on("meeting.ended", (m) => finish("ended", m.logoutUrl));
on("users.delta", applyDelta);
on("users.reset", (m) => {
  users.value = new Map(m.users.map((u) => [u.id, u]));
  usersSeq = m.seq;
  const mine = me.value && users.value.get(me.value.id);
  if (mine) me.value = mine;
});
on("locks.updated", (m) => (locks.value = m.locks));
on("lobby.updated", (m) => (lobby.value = m.waiting));
on("recording.updated", (m) => {
  if (meeting.value) meeting.value = { ...meeting.value, recording: m.recording, recordingSince: m.recording ? Date.now() : null };
  toast(t(m.recording ? "recordingStarted" : "recordingStopped", { name: m.by }));
});
on("error", (m) => toast(m.message, { kind: "error" }));
