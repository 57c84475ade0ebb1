// The people feature's state and actions: the order hands were raised in, the sorted and
// searched user list, what a moderator may do to whom, and the messages those actions send.
import { computed, effect, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { announce, disabled, isModerator, lockedForMe, me, meeting, on, toast, users } from "../../core/store.js";
import { t } from "../../core/i18n.js";
import { cameraUsers, ejectCamera, muteAll, muteUser } from "../stage/index.jsx";

/** The reactions offered, as the old page offered them (all are in the server's set). */
export const REACTIONS = ["👍", "👏", "😂", "😮", "❤️", "🎉", "🤔", "☕"];

/** The media settings of the meeting that decide the moderators' audio and camera actions. */
export const mediaSettings = signal({});
/** user id → the order their hand went up in, as this page saw it (BBB lists hands first). */
const handOrder = signal(new Map());
let handCount = 0;
export const search = signal("");
/** The meeting's guest policy (ASK_MODERATOR, ALWAYS_ACCEPT, ALWAYS_DENY); moderators only, null if unknown. */
export const guestPolicy = signal(null);
export const GUEST_POLICIES = ["ASK_MODERATOR", "ALWAYS_ACCEPT", "ALWAYS_DENY"];
/** A reaction lasts this long, then my own page takes it back, as BBB does. */
const REACTION_MS = 60 * 1000;

function trackHand(user) {
  const known = handOrder.value.has(user.id);
  if (user.hand === known) return;
  const next = new Map(handOrder.value);
  if (user.hand) next.set(user.id, ++handCount);
  else next.delete(user.id);
  handOrder.value = next;
}

on("welcome", (m) => {
  mediaSettings.value = { ...(m.meeting || {}), ...(m.media || {}) };
  // Hands already up when we arrive: their order is not known, so by name.
  const raised = m.users.filter((u) => u.hand).sort(byName);
  handCount = 0;
  handOrder.value = new Map(raised.map((u) => [u.id, ++handCount]));
  guestPolicy.value = m.meeting?.guestPolicy || null;
});
on("guest.policy", (m) => {
  guestPolicy.value = m.policy;
  if (m.by && m.by.id !== me.value?.id) toast(t("guestPolicyChangedBy", { name: m.by.name, policy: t(`policy_${m.policy}`) }));
});

// My reaction goes away by itself after a minute; a new one starts the minute again.
let timedReaction = null;
let reactionTimer = null;
effect(() => {
  const reaction = me.value?.reaction || null;
  if (reaction === timedReaction) return;
  timedReaction = reaction;
  clearTimeout(reactionTimer);
  if (reaction) {
    reactionTimer = setTimeout(() => {
      if (me.value?.reaction === reaction) send({ type: "reaction.set", emoji: null });
    }, REACTION_MS);
  }
});
on("user.joined", (m) => trackHand(m.user));
on("user.updated", (m) => trackHand(m.user));
on("user.left", (m) => trackHand({ id: m.user, hand: false }));
on("lobby.updated", (m) => {
  if (!isModerator.value) return;
  const before = new Set(lobbySeen);
  lobbySeen = m.waiting.map((g) => g.id);
  for (const guest of m.waiting) if (!before.has(guest.id)) announce(t("guestWaiting", { name: guest.name }));
});
let lobbySeen = [];

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
function byName(a, b) {
  return collator.compare(a.name, b.name) || (a.id < b.id ? -1 : 1);
}

/** BBB's order: raised hands first (in the order they went up), then moderators, then the rest, by name. */
export const sortedUsers = computed(() => {
  const hands = handOrder.value;
  return [...users.value.values()].sort((a, b) => {
    const ha = hands.get(a.id) ?? Infinity;
    const hb = hands.get(b.id) ?? Infinity;
    if (ha !== hb) return ha - hb;
    const ma = a.role === "MODERATOR";
    if (ma !== (b.role === "MODERATOR")) return ma ? -1 : 1;
    return byName(a, b);
  });
});

/** Lower case without accents, so "joao" finds "João". */
export function fold(text) {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

export const shownUsers = computed(() => {
  const query = fold(search.value.trim());
  if (!query) return sortedUsers.value;
  return sortedUsers.value.filter((u) => fold(u.name).includes(query));
});

/** Whether I may chat privately with someone (BBB's rules, as the server enforces them). */
export function canChatPrivately(user) {
  return Boolean(me.value) && user.id !== me.value.id && !disabled("chat") && !disabled("privateChat") &&
    !lockedForMe("disablePrivateChat");
}

/** The per-user menu's entries that apply to this user for me, in BBB's order. */
export function userActions(user, { openChat }) {
  const mine = me.value;
  if (!mine) return [];
  const self = user.id === mine.id;
  const items = [];
  // My own status from my own row too, as from the action bar.
  if (self) items.push({ key: user.away ? "back" : "away", run: () => send({ type: "away.set", away: !user.away }) });
  if (canChatPrivately(user)) items.push({ key: "chat", run: () => openChat(user.id) });
  if (!isModerator.value) return items;
  const settings = mediaSettings.value;
  if (user.hand) items.push({ key: "lowerHand", run: () => send({ type: "hand.set", raised: false, user: user.id }) });
  if (!user.presenter) items.push({ key: self ? "takePresenter" : "makePresenter", run: () => send({ type: "user.presenter", user: user.id }) });
  if (self) return items;
  if (user.audio === "mic" && !user.muted) items.push({ key: "mute", run: () => muteUser(user.id, true) });
  if (user.audio === "mic" && user.muted && settings.allowModsToUnmuteUsers) items.push({ key: "unmute", run: () => muteUser(user.id, false) });
  if (settings.allowModsToEjectCameras && cameraUsers.value.has(user.id)) items.push({ key: "ejectCamera", run: () => ejectCamera(user.id) });
  items.push(user.role === "MODERATOR"
    ? { key: "demote", run: () => send({ type: "user.role", user: user.id, role: "VIEWER" }) }
    : { key: "promote", run: () => send({ type: "user.role", user: user.id, role: "MODERATOR" }) });
  items.push({ key: "remove", danger: true, run: () => send({ type: "user.remove", user: user.id }) });
  items.push({ key: "removeAndBan", danger: true, run: () => send({ type: "user.remove", user: user.id, ban: true }) });
  return items;
}

export function muteEveryone() {
  muteAll();
}

/** BBB's "mute all except presenter": the server has the flag for it on mute_all. */
export function muteEveryoneButPresenter() {
  send({ type: "media.audio.mute_all", muted: true, exceptPresenter: true });
}

/** Lowers every raised hand and nothing else (BBB's "lower hands"), one hand.set per hand. */
export function lowerAllHands() {
  for (const user of users.value.values()) if (user.hand) send({ type: "hand.set", raised: false, user: user.id });
}

/** BBB's "clear all statuses": every hand, reaction and away at once (status.clear). */
export function clearAllStatuses() {
  send({ type: "status.clear" });
}

export function setGuestPolicy(policy) {
  send({ type: "guest.policy", policy });
}

export function setLocks(next) {
  send({ type: "lock.set", ...next });
}

export function decide(allow, guest) {
  send({ type: "guest.decide", allow, ...(guest ? { user: guest } : {}) });
}

/** BBB's "save user names": a text file with everybody's name and role, made here. */
export function saveNames() {
  const stamp = new Date();
  const lines = sortedUsers.value.map((u) => {
    const role = u.role === "MODERATOR" ? t("moderator") : u.guest ? t("guest") : t("viewer");
    return `${u.name}\t${role}`;
  });
  const title = meeting.value?.name || "sala";
  const text = `${title}\n${stamp.toLocaleString()}\n\n${lines.join("\n")}\n`;
  download(`${t("namesFile")}-${fileStamp(stamp)}.txt`, text);
}

export function fileStamp(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}`;
}

function download(name, text) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// What an avatar is drawn with lives in identity.js (no store: the LTI page uses it too).
export { avatarColour, hueOf, initials } from "./identity.js";
