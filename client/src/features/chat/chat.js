// The chat's state: conversations (the public chat and one per person I chat with privately),
// their messages, drafts and unread counts, and what I may send where.
//
// A message is kept as { id, from: {id, name}, to, text, ts, own } in its conversation's list
// and in `byId`, so that later messages about a message (a reaction, an edit, a deletion, a
// reply's quote: see the report's proposed protocol) can find it by id and replace it with a
// changed copy: { ...message, reactions: {emoji: [user ids]}, replyTo, editedAt, deleted }.
import { computed, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { disabled, lockedForMe, me, on, users } from "../../core/store.js";

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
const byId = new Map();
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
  // A deleted message (protocol v2 keeps it in the history, emptied) is not shown until the
  // chat shows deletions.
  if (byId.has(message.id) || message.deleted) return;
  const mine = me.value?.id;
  const own = message.from.id === mine;
  let key = PUBLIC;
  if (message.to) {
    const peerId = own ? message.to : message.from.id;
    const peerName = own ? users.value.get(message.to)?.name || "" : message.from.name;
    key = ensureConversation({ id: peerId, name: peerName }).key;
  }
  const item = { id: message.id, from: message.from, to: message.to || null, text: message.text, ts: message.ts, own };
  byId.set(item.id, item);
  const conversation = conversations.value.get(key);
  const seen = history || own || visibleConversation.value === key && document.visibilityState === "visible";
  put({ ...conversation, closed: false, messages: [...conversation.messages, item], unread: seen ? conversation.unread : conversation.unread + 1 });
}

on("welcome", (m) => {
  // A reconnection brings the whole history again: start over from it.
  byId.clear();
  const next = new Map();
  for (const [key, conversation] of conversations.value) next.set(key, { ...conversation, messages: [], unread: 0 });
  conversations.value = next;
  for (const message of m.chat || []) add(message, { history: true });
});
on("chat.message", (m) => add(m));
// Names change with a new join; keep the private conversations' titles current.
on("user.joined", (m) => {
  const known = conversations.value.get(m.user.id);
  if (known && known.peer.name !== m.user.name) put({ ...known, peer: { ...known.peer, name: m.user.name } });
});

export function sendMessage(key, text) {
  const body = text.trim();
  if (!body || lockReason(key)) return false;
  send({ type: "chat.send", text: body.slice(0, MAX_LENGTH), ...(key === PUBLIC ? {} : { to: key }) });
  return true;
}

/** The conversation as a text file, as BBB's "save chat" makes it. */
export function transcript(conversation, title, formatTime) {
  const lines = conversation.messages.map((m) => `[${formatTime(m.ts)}] ${m.from.name}: ${m.text}`);
  return `${title}\n\n${lines.join("\n")}\n`;
}

export function download(name, text) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
