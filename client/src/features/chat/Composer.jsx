// Where a message is written: Enter sends, Shift+Enter starts a new line; the emoji picker
// inserts at the caret; a lock or a disabled feature says why nothing can be sent. A reply being
// written shows its quote above, with a button (or Escape) to cancel it. Typing tells the
// others (chat.typing, at most once every 2 s).
import { Reply, SendHorizontal, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { disabled } from "../../core/store.js";
import { cancelReply, drafts, lockReason, MAX_LENGTH, PUBLIC, replying, sendMessage, sendTyping } from "./chat.js";
import { EmojiPicker } from "./EmojiPicker.jsx";

function ReplyBar({ conversationKey, quoted, onCancel }) {
  return (
    <div class="reply-bar" id="reply-bar">
      <Reply size={16} aria-hidden="true" class="reply-bar-icon" />
      <div class="reply-bar-text">
        <span class="reply-bar-title">{t("replyingTo", { name: quoted.from.name })}</span>
        <span class="reply-bar-excerpt">{quoted.text.slice(0, 140)}</span>
      </div>
      <button
        type="button"
        id="reply-cancel"
        class="ghost icon-only"
        aria-label={t("cancelReply")}
        data-tooltip={t("cancelReply")}
        onClick={() => onCancel(conversationKey)}
      >
        <X size={16} aria-hidden="true" />
      </button>
    </div>
  );
}

export function Composer({ conversation, input }) {
  const key = conversation.key;
  const text = drafts.value.get(key) || "";
  const setText = (value) => {
    const next = new Map(drafts.value);
    next.set(key, value);
    drafts.value = next;
  };
  const reason = lockReason(key);
  const peer = conversation.peer?.name || "";
  const submit = (event) => {
    event?.preventDefault();
    if (sendMessage(key, text)) setText("");
    input.current?.focus();
  };
  const insert = (char) => {
    const box = input.current;
    const start = box.selectionStart ?? text.length;
    const end = box.selectionEnd ?? text.length;
    const next = (text.slice(0, start) + char + text.slice(end)).slice(0, MAX_LENGTH);
    setText(next);
    requestAnimationFrame(() => {
      box.focus();
      box.setSelectionRange(start + char.length, start + char.length);
    });
  };
  const left = MAX_LENGTH - text.length;
  const quoted = !reason && !disabled("replyChatMessage") ? replying.value.get(key) : null;
  const stopReply = () => {
    cancelReply(key);
    input.current?.focus();
  };
  return (
    <form id="chat-form" class="chat-form" onSubmit={submit}>
      {reason && <p class="chat-locked" role="status">{t(reason, { name: peer })}</p>}
      {quoted && <ReplyBar conversationKey={key} quoted={quoted} onCancel={stopReply} />}
      <div class={`composer ${reason ? "disabled" : ""}`}>
        <label class="visually-hidden" for="chat-text">{t("message")}</label>
        <textarea
          ref={input}
          id="chat-text"
          rows={1}
          maxLength={MAX_LENGTH}
          autocomplete="off"
          disabled={Boolean(reason)}
          placeholder={key === PUBLIC ? t("messagePublic") : t("messageTo", { name: peer })}
          value={text}
          onInput={(event) => {
            setText(event.currentTarget.value);
            if (event.currentTarget.value.trim()) sendTyping(key);
            const box = event.currentTarget;
            box.style.height = "auto";
            box.style.height = `${Math.min(box.scrollHeight, 140)}px`;
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
            else if (event.key === "Escape" && quoted) {
              event.stopPropagation();
              stopReply();
            }
          }}
        />
        {!disabled("chatEmojiPicker") && <EmojiPicker onPick={insert} disabled={Boolean(reason)} />}
        <button
          type="submit"
          class="send-button icon-only"
          aria-label={t("send")}
          data-tooltip={t("send")}
          disabled={Boolean(reason) || !text.trim()}
        >
          <SendHorizontal size={18} aria-hidden="true" />
        </button>
      </div>
      {left <= 100 && <p class="chars-left" aria-live="polite">{t("charactersLeft", { count: left })}</p>}
    </form>
  );
}
