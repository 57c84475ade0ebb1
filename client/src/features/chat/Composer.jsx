// Where a message is written: Enter sends, Shift+Enter starts a new line; the emoji picker
// inserts at the caret; a lock or a disabled feature says why nothing can be sent.
import { useRef } from "preact/hooks";
import { SendHorizontal } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { drafts, lockReason, MAX_LENGTH, PUBLIC, sendMessage } from "./chat.js";
import { EmojiPicker } from "./EmojiPicker.jsx";

export function Composer({ conversation }) {
  const input = useRef(null);
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
  return (
    <form id="chat-form" class="chat-form" onSubmit={submit}>
      {reason && <p class="chat-locked" role="status">{t(reason, { name: peer })}</p>}
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
            const box = event.currentTarget;
            box.style.height = "auto";
            box.style.height = `${Math.min(box.scrollHeight, 140)}px`;
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
          }}
        />
        <EmojiPicker onPick={insert} disabled={Boolean(reason)} />
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
