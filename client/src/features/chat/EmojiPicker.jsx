// The composer's emoji picker: a grid of Twemoji pictures; choosing one inserts the character
// itself into the text. Arrow keys move in the grid, Escape closes it.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { Smile } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { Emoji } from "../../ui/Emoji.jsx";

/** Every one of these is listed in client/emoji-set.txt, which the build copies. */
export const PICKER = [
  "😀", "😃", "😄", "😁", "😅", "😂", "🙂", "😉", "😊", "😍", "😘", "😎", "🤩", "🤔", "🙄", "😐",
  "😮", "😢", "😭", "😡", "🥳", "😴", "🤯", "👍", "👎", "👏", "🙌", "🙏", "💪", "👋", "✋", "👀",
  "❤️", "🔥", "🎉", "✅", "❌", "⭐", "💯", "☕", "📌", "💡",
];
const COLUMNS = 8;

export function EmojiPicker({ onPick, disabled }) {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  const trigger = useRef(null);
  // A layout effect: a key pressed at once (Escape) must find the focus already moved.
  useLayoutEffect(() => {
    if (!open) return undefined;
    root.current.querySelector(".emoji-choice")?.focus();
    const outside = (event) => { if (!root.current?.contains(event.target)) setOpen(false); };
    addEventListener("pointerdown", outside);
    return () => removeEventListener("pointerdown", outside);
  }, [open]);
  const onKeyDown = (event) => {
    if (!open) return;
    const cells = [...root.current.querySelectorAll(".emoji-choice")];
    const at = cells.indexOf(document.activeElement);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (event.key === "Escape") {
      event.stopPropagation();
      setOpen(false);
      trigger.current?.focus();
    } else if (event.key === "Tab") {
      setOpen(false);
    } else if (at >= 0 && event.key in moves) {
      event.preventDefault();
      cells[Math.min(cells.length - 1, Math.max(0, at + moves[event.key]))].focus();
    } else if (at >= 0 && (event.key === "Home" || event.key === "End")) {
      event.preventDefault();
      cells[event.key === "Home" ? 0 : cells.length - 1].focus();
    }
  };
  return (
    <div class="emoji-anchor" ref={root} onKeyDown={onKeyDown}>
      <button
        ref={trigger}
        type="button"
        id="emoji-button"
        class="ghost icon-only"
        aria-label={t("emojiPicker")}
        data-tooltip={t("emojiPicker")}
        aria-haspopup="true"
        aria-expanded={String(open)}
        disabled={disabled}
        onClick={() => setOpen(!open)}
      >
        <Smile size={20} aria-hidden="true" />
      </button>
      {open && (
        <div class="emoji-picker" role="group" aria-label={t("emojiPicker")}>
          {PICKER.map((char) => (
            <button
              key={char}
              type="button"
              class="emoji-choice"
              aria-label={char}
              data-emoji={char}
              tabIndex={-1}
              onClick={() => {
                setOpen(false);
                onPick(char);
              }}
            >
              <Emoji char={char} size={24} label="" />
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
