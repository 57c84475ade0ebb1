// The chat feature: the public chat and one conversation per person chatted with privately,
// each a side panel with its entry (and unread badge) in the navigation, as in BBB 3.0.
import { MessageSquare } from "lucide-preact";
import { register, t } from "../../core/i18n.js";
import { flag, on, users } from "../../core/store.js";
import { narrow, navOpen, sidePanel } from "../../ui/layout.js";
import { registerPanel } from "../../ui/registry.js";
import { chatAllowed, conversations, ensureConversation, onNewConversation, privateAllowed, PUBLIC } from "./chat.js";
import { ChatPanel } from "./ChatPanel.jsx";
import { Avatar } from "../people/index.jsx";
import "./announcements.js";
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
    // The person's avatar (their picture, or initials on their colour), as BBB shows it.
    icon: ({ size }) => <Avatar user={peerOf(key)} size={size + 4} />,
    label: () => conversations.value.get(key)?.peer.name || "",
    component: () => <ChatPanel conversationKey={key} panelId={id} />,
    visible: () => privateAllowed.value && !conversations.value.get(key)?.closed,
    badge: () => conversations.value.get(key)?.unread || 0,
  });
  return id;
};

/** Who a private conversation is with, as the avatar needs them (after they left: the name). */
function peerOf(key) {
  const user = users.value.get(key);
  const peer = conversations.value.get(key)?.peer || { id: key, name: "" };
  return { id: key, name: user?.name || peer.name, avatar: user?.avatar, role: user?.role };
}

/** Opens (making it if needed) the private chat with someone and puts the caret in it. */
export function openPrivateChat(userId) {
  const conversation = ensureConversation({ id: userId, name: users.value.get(userId)?.name || "" });
  sidePanel.value = conversation.panel;
  if (narrow.value) navOpen.value = false;
  requestAnimationFrame(() => document.getElementById("chat-text")?.focus());
}

// userdata-bbb_show_public_chat_on_login=false starts with no side panel open.
let started = false;
on("welcome", () => {
  if (!started && !flag("bbb_show_public_chat_on_login", true) && sidePanel.value === "chat") sidePanel.value = null;
  started = true;
});
