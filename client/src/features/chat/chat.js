// The chat's state: conversations (the public chat and one per person I chat with privately),
// their messages, drafts and unread counts, and what I may send where.
//
// A message is kept as { id, from: {id, name}, to, text, ts, own, replyTo, reactions, editedAt,
// deleted } in its conversation's list; `byId` says which conversation holds an id, so that the
// later messages about it (protocol v2: chat.reactions, chat.edited, chat.deleted) replace it
// with a changed copy. Also here: who is typing where, the reply being written, and what I may
// do to a message (disabledFeatures and locks, as the server enforces them).
import { computed, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { disabled, isModerator, lockedForMe, me, on, users } from "../../core/store.js";

export const PUBLIC = "public";
export const MAX_LENGTH = 1000;

/**
 * key ("public" or the other person's user id) → { key, peer: {id, name} | null, messages,
 * unread, closed, panel (the side panel's id) }.
 */
export const conversations = signal(new Map([[PUBLIC, blank(PUBLIC, null)]]));
/** The side panel each conversation shows in; whoever opened it gets focus in its composer. */
export const visibleConversation = signal(null);
/** What was half typed in each conversation, kept while it is closed. */
export const drafts = signal(new Map());
/** message id → the key of the conversation that holds it. */
const byId = new Map();
/** The public chat was emptied by a moderator: { name } until the next message or welcome. */
export const clearedBy = signal(null);
/** conversation key → the message being replied to there. */
export const replying = signal(new Map());
/** conversation key → [{ id, name, until }]: who is typing there (shown ~3 s after each notice). */
export const typing = signal(new Map());
const TYPING_SHOWN_MS = 3000;
const TYPING_EVERY_MS = 2000;
/** Panels for private conversations are registered once per person (registry.js has no removal). */
export const onNewConversation = { callback: null };

function blank(key, peer) {
  return { key, peer, messages: [], unread: 0, closed: false, panel: key === PUBLIC ? "chat" : null };
}

export const chatAllowed = computed(() => !disabled("chat"));
export const privateAllowed = computed(() => !disabled("chat") && !disabled("privateChat"));

/** Why I cannot write in this conversation now, or null when I can. */
export function lockReason(key) {
  if (key === PUBLIC) return lockedForMe("disablePublicChat") ? "publicChatLocked" : null;
  if (!privateAllowed.value) return "privateChatDisabled";
  if (lockedForMe("disablePrivateChat")) return "privateChatLocked";
  const peer = conversations.value.get(key)?.peer;
  if (peer && !users.value.has(peer.id)) return "peerLeft";
  return null;
}

function put(conversation) {
  const next = new Map(conversations.value);
  next.set(conversation.key, conversation);
  conversations.value = next;
}

/** The conversation with someone, made (and its panel registered) the first time. */
export function ensureConversation(peer) {
  const known = conversations.value.get(peer.id);
  if (known) {
    if (known.closed || (peer.name && known.peer.name !== peer.name)) put({ ...known, closed: false, peer: { ...known.peer, ...peer } });
    return conversations.value.get(peer.id);
  }
  const conversation = blank(peer.id, peer);
  conversation.panel = onNewConversation.callback(conversation);
  put(conversation);
  return conversation;
}

export function closeConversation(key) {
  const known = conversations.value.get(key);
  if (known && key !== PUBLIC) put({ ...known, closed: true, unread: 0 });
}

export function markRead(key) {
  const known = conversations.value.get(key);
  if (known && known.unread) put({ ...known, unread: 0 });
}

function add(message, { history = false } = {}) {
  if (byId.has(message.id)) return;
  const mine = me.value?.id;
  const own = message.from.id === mine;
  let key = PUBLIC;
  if (message.to) {
    const peerId = own ? message.to : message.from.id;
    const peerName = own ? users.value.get(message.to)?.name || "" : message.from.name;
    key = ensureConversation({ id: peerId, name: peerName }).key;
  }
  const item = {
    id: message.id, from: message.from, to: message.to || null, text: message.text, ts: message.ts, own,
    replyTo: message.replyTo || null, reactions: message.reactions || [], editedAt: message.editedAt || null,
    deleted: Boolean(message.deleted),
  };
  byId.set(item.id, key);
  const conversation = conversations.value.get(key);
  const seen = history || own || visibleConversation.value === key && document.visibilityState === "visible";
  put({ ...conversation, closed: false, messages: [...conversation.messages, item], unread: seen ? conversation.unread : conversation.unread + 1 });
  if (key === PUBLIC) clearedBy.value = null;
  stopTyping(key, message.from.id);
}

/** Replaces the message of that id by change(message), in whichever conversation holds it. */
function change(id, fn) {
  const key = byId.get(id);
  const conversation = key && conversations.value.get(key);
  if (!conversation) return;
  put({ ...conversation, messages: conversation.messages.map((m) => (m.id === id ? fn(m) : m)) });
}

/** A deleted message's quote in the replies to it is emptied, as the server's. */
function emptyQuotes(id) {
  const key = byId.get(id);
  const conversation = key && conversations.value.get(key);
  if (!conversation) return;
  put({
    ...conversation,
    messages: conversation.messages.map((m) => (m.replyTo?.id === id ? { ...m, replyTo: { ...m.replyTo, text: "" } } : m)),
  });
}

on("welcome", (m) => {
  // A reconnection brings the whole history again: start over from it.
  byId.clear();
  const next = new Map();
  for (const [key, conversation] of conversations.value) next.set(key, { ...conversation, messages: [], unread: 0 });
  conversations.value = next;
  clearedBy.value = null;
  replying.value = new Map();
  typing.value = new Map();
  for (const message of m.chat || []) add(message, { history: true });
});
on("chat.message", (m) => add(m));
on("chat.reactions", (m) => change(m.message, (message) => ({ ...message, reactions: m.reactions })));
on("chat.edited", (m) => change(m.message, (message) => ({ ...message, text: m.text, editedAt: m.editedAt })));
on("chat.deleted", (m) => {
  change(m.message, (message) => ({ ...message, text: "", deleted: true, reactions: [], replyTo: null }));
  emptyQuotes(m.message);
  const key = byId.get(m.message);
  if (replying.value.get(key)?.id === m.message) cancelReply(key);
});
on("chat.cleared", (m) => {
  const conversation = conversations.value.get(PUBLIC);
  for (const message of conversation.messages) byId.delete(message.id);
  put({ ...conversation, messages: [], unread: 0 });
  clearedBy.value = { name: m.by?.name || "" };
  cancelReply(PUBLIC);
});
on("chat.typing", (m) => {
  const key = m.to ? m.user : PUBLIC;
  const until = Date.now() + TYPING_SHOWN_MS;
  const next = new Map(typing.value);
  next.set(key, [...(next.get(key) || []).filter((x) => x.id !== m.user), { id: m.user, name: m.name, until }]);
  typing.value = next;
  setTimeout(pruneTyping, TYPING_SHOWN_MS + 50);
});
on("user.left", (m) => {
  for (const key of typing.value.keys()) stopTyping(key, m.user);
});

function pruneTyping() {
  const now = Date.now();
  const next = new Map();
  for (const [key, list] of typing.value) {
    const left = list.filter((x) => x.until > now);
    if (left.length) next.set(key, left);
  }
  typing.value = next;
}

function stopTyping(key, userId) {
  const list = typing.value.get(key);
  if (!list?.some((x) => x.id === userId)) return;
  const next = new Map(typing.value);
  const left = list.filter((x) => x.id !== userId);
  if (left.length) next.set(key, left);
  else next.delete(key);
  typing.value = next;
}

const typedAt = new Map();
/** Tells the others I am typing here: at most once every 2 s (the server drops more anyway). */
export function sendTyping(key) {
  if (lockReason(key)) return;
  const now = Date.now();
  if (now - (typedAt.get(key) || 0) < TYPING_EVERY_MS) return;
  typedAt.set(key, now);
  send({ type: "chat.typing", ...(key === PUBLIC ? {} : { to: key }) });
}

// What I may do to a message, as the server decides it.
export function canReact(key, message) {
  return !message.deleted && !disabled("chatMessageReactions") && !lockReason(key);
}
export function canReply(key, message) {
  return !message.deleted && !disabled("replyChatMessage") && !lockReason(key);
}
export function canEdit(key, message) {
  return !message.deleted && message.own && !disabled("editChatMessage") && !lockReason(key);
}
export function canDelete(message) {
  return !message.deleted && !disabled("deleteChatMessage") && (message.own || isModerator.value);
}

/** Gives my reaction to a message, or takes it back when I had given that one. */
export function toggleReaction(message, emoji) {
  const mine = me.value?.id;
  const given = message.reactions.some((r) => r.emoji === emoji && r.users.includes(mine));
  send({ type: "chat.react", message: message.id, emoji, on: !given });
}

export function editMessage(message, text) {
  const body = text.trim();
  if (!body || body === message.text) return;
  send({ type: "chat.edit", message: message.id, text: body.slice(0, MAX_LENGTH) });
}

export function deleteMessage(message) {
  send({ type: "chat.delete", message: message.id });
}

export function clearPublicChat() {
  send({ type: "chat.clear" });
}

export function startReply(key, message) {
  const next = new Map(replying.value);
  next.set(key, message);
  replying.value = next;
}

export function cancelReply(key) {
  if (!replying.value.has(key)) return;
  const next = new Map(replying.value);
  next.delete(key);
  replying.value = next;
}
// Names change with a new join; keep the private conversations' titles current.
on("user.joined", (m) => {
  const known = conversations.value.get(m.user.id);
  if (known && known.peer.name !== m.user.name) put({ ...known, peer: { ...known.peer, name: m.user.name } });
});

export function sendMessage(key, text) {
  const body = text.trim();
  if (!body || lockReason(key)) return false;
  const quoted = replying.value.get(key);
  const replyTo = quoted && !disabled("replyChatMessage") ? { replyTo: quoted.id } : {};
  // Not connected (a reconnection, a front end taking the meeting over): the text stays typed.
  if (!send({ type: "chat.send", text: body.slice(0, MAX_LENGTH), ...(key === PUBLIC ? {} : { to: key }), ...replyTo })) return false;
  cancelReply(key);
  return true;
}

/** The conversation as a text file, as BBB's "save chat" makes it. */
export function transcript(conversation, title, formatTime) {
  const lines = conversation.messages.filter((m) => !m.deleted).map((m) => `[${formatTime(m.ts)}] ${m.from.name}: ${m.text}`);
  return `${title}\n\n${lines.join("\n")}\n`;
}

export function download(name, text) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
