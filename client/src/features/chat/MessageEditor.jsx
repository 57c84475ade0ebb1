// Editing my own message in place: Enter saves, Shift+Enter starts a new line, Escape cancels.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "../../core/i18n.js";
import { MAX_LENGTH } from "./chat.js";

export function MessageEditor({ message, onSave, onCancel }) {
  const [text, setText] = useState(message.text);
  const box = useRef(null);
  useLayoutEffect(() => {
    const input = box.current;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }, []);
  const save = () => (text.trim() ? onSave(text) : onCancel());
  return (
    <div class="message-editor">
      <label class="visually-hidden" for={`edit-${message.id}`}>{t("editMessage")}</label>
      <textarea
        ref={box}
        id={`edit-${message.id}`}
        class="message-edit-text"
        rows={1}
        maxLength={MAX_LENGTH}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          event.currentTarget.style.height = "auto";
          event.currentTarget.style.height = `${Math.min(event.currentTarget.scrollHeight, 160)}px`;
        }}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            event.stopPropagation();
            onCancel();
          } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            save();
          }
        }}
      />
      <p class="message-edit-hint">{t("editHint")}</p>
      <div class="message-edit-actions">
        <button type="button" class="secondary" onClick={onCancel}>{t("cancel")}</button>
        <button type="button" class="message-edit-save" onClick={save}>{t("save")}</button>
      </div>
    </div>
  );
}
