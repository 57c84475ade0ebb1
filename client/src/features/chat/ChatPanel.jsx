// One conversation in its side panel: the title, save and close, the messages and the composer.
// Only the panel on screen renders its contents, so the ids (chat-log, chat-text) stay unique
// while every conversation has its own panel.
import { useEffect, useRef, useState } from "preact/hooks";
import { Download, EllipsisVertical, Eraser, Lock, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { isModerator, meeting } from "../../core/store.js";
import { sidePanel } from "../../ui/layout.js";
import { Menu } from "../../ui/Menu.jsx";
import { Modal } from "../../ui/Modal.jsx";
import {
  chatAllowed, clearPublicChat, closeConversation, conversations, privateAllowed, download, markRead, PUBLIC, transcript,
  visibleConversation,
} from "./chat.js";
import { Composer } from "./Composer.jsx";
import { formatTime, MessageList } from "./MessageList.jsx";

function fileStamp(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}`;
}

function save(conversation, title) {
  const now = new Date();
  const heading = `${meeting.value?.name || "sala"} — ${title}\n${now.toLocaleString()}`;
  const name = conversation.key === PUBLIC ? t("chatFile") : `${t("privateFile")}-${conversation.peer.name}`;
  download(`${name}-${fileStamp(now)}.txt`.replace(/[\\/:*?"<>|]+/g, "_"), transcript(conversation, heading, formatTime));
}

/** The moderators' "Clear the public chat", asked first. */
function ClearDialog({ open, onClose }) {
  return (
    <Modal
      id="clear-chat-dialog"
      open={open}
      title={t("clearChat")}
      onClose={(value) => {
        if (value === "clear") clearPublicChat();
        onClose();
      }}
    >
      <p>{t("clearChatConfirm")}</p>
      <footer class="modal-actions">
        <button value="cancel" class="secondary">{t("cancel")}</button>
        <button value="clear" class="danger" id="clear-chat-confirm">{t("clearChatButton")}</button>
      </footer>
    </Modal>
  );
}

export function ChatPanel({ conversationKey, panelId }) {
  const input = useRef(null);
  const [clearing, setClearing] = useState(false);
  const shown = sidePanel.value === panelId && (conversationKey === PUBLIC ? chatAllowed.value : privateAllowed.value);
  const conversation = conversations.value.get(conversationKey);
  useEffect(() => {
    if (!shown) return undefined;
    visibleConversation.value = conversationKey;
    markRead(conversationKey);
    const seen = () => { if (document.visibilityState === "visible") markRead(conversationKey); };
    document.addEventListener("visibilitychange", seen);
    return () => {
      document.removeEventListener("visibilitychange", seen);
      if (visibleConversation.value === conversationKey) visibleConversation.value = null;
    };
  }, [shown]);
  // A message arriving while I read this conversation is read.
  useEffect(() => {
    if (shown && conversation?.unread && document.visibilityState === "visible") markRead(conversationKey);
  }, [shown, conversation?.unread]);
  if (!shown || !conversation) return null;
  const isPublic = conversationKey === PUBLIC;
  const title = isPublic ? t("chat") : t("privateChatWith", { name: conversation.peer.name });
  return (
    <div class="chat-panel" data-conversation={isPublic ? "public" : "private"}>
      <header class="panel-head">
        <h2 id="chat-title">{title}</h2>
        <span class="spacer" />
        <button
          type="button"
          id="chat-save"
          class="ghost icon-only"
          aria-label={t("saveChat")}
          data-tooltip={t("saveChat")}
          disabled={conversation.messages.length === 0}
          onClick={() => save(conversation, title)}
        >
          <Download size={18} aria-hidden="true" />
        </button>
        {isPublic && isModerator.value && (
          <Menu
            id="chat-options"
            label={t("chatOptions")}
            triggerClass="ghost icon-only"
            trigger={<EllipsisVertical size={18} aria-hidden="true" />}
            items={[{ key: "clear-chat", icon: Eraser, label: t("clearChat"), danger: true, run: () => setClearing(true) }]}
          />
        )}
        {!isPublic && (
          <button
            type="button"
            id="chat-close"
            class="ghost icon-only"
            aria-label={t("closeChat")}
            data-tooltip={t("closeChat")}
            onClick={() => {
              closeConversation(conversationKey);
              sidePanel.value = "chat";
            }}
          >
            <X size={18} aria-hidden="true" />
          </button>
        )}
      </header>
      {!isPublic && (
        <p class="private-note">
          <Lock size={14} aria-hidden="true" />
          {t("privateNote", { name: conversation.peer.name })}
        </p>
      )}
      <MessageList conversation={conversation} focusComposer={() => input.current?.focus()} />
      <Composer conversation={conversation} input={input} />
      {isPublic && <ClearDialog open={clearing} onClose={() => setClearing(false)} />}
    </div>
  );
}
