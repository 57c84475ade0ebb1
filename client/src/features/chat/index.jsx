// The chat feature: the public chat and one conversation per person chatted with privately,
// each a side panel with its entry (and unread badge) in the navigation, as in BBB 3.0.
import { MessageSquare, MessageSquareLock } from "lucide-preact";
import { register, t } from "../../core/i18n.js";
import { flag, me, on, toast, users } from "../../core/store.js";
import { narrow, navOpen, sidePanel } from "../../ui/layout.js";
import { registerPanel } from "../../ui/registry.js";
import { chatAllowed, conversations, ensureConversation, onNewConversation, privateAllowed, PUBLIC, visibleConversation } from "./chat.js";
import { ChatPanel } from "./ChatPanel.jsx";
import words from "./words.js";
import "./chat.css";

register(words);

registerPanel({
  id: "chat",
  order: 10,
  icon: MessageSquare,
  label: () => t("chat"),
  component: () => <ChatPanel conversationKey={PUBLIC} panelId="chat" />,
  visible: () => chatAllowed.value,
  badge: () => conversations.value.get(PUBLIC)?.unread || 0,
});

let privatePanels = 0;
onNewConversation.callback = (conversation) => {
  const id = `chat-private-${++privatePanels}`;
  const key = conversation.key;
  registerPanel({
    id,
    order: 11,
    icon: MessageSquareLock,
    label: () => conversations.value.get(key)?.peer.name || "",
    component: () => <ChatPanel conversationKey={key} panelId={id} />,
    visible: () => privateAllowed.value && !conversations.value.get(key)?.closed,
    badge: () => conversations.value.get(key)?.unread || 0,
  });
  return id;
};

/** Opens (making it if needed) the private chat with someone and puts the caret in it. */
export function openPrivateChat(userId) {
  const conversation = ensureConversation({ id: userId, name: users.value.get(userId)?.name || "" });
  sidePanel.value = conversation.panel;
  if (narrow.value) navOpen.value = false;
  requestAnimationFrame(() => document.getElementById("chat-text")?.focus());
}

// A private message for a conversation not on screen: said aloud and shown briefly.
on("chat.message", (m) => {
  if (!m.to || m.from.id === me.value?.id || visibleConversation.value === m.from.id) return;
  toast(t("newPrivateMessage", { name: m.from.name }));
});

// userdata-bbb_show_public_chat_on_login=false starts with no side panel open.
let started = false;
on("welcome", () => {
  if (!started && !flag("bbb_show_public_chat_on_login", true) && sidePanel.value === "chat") sidePanel.value = null;
  started = true;
});
