// The composer's emoji picker: a grid of Twemoji pictures; choosing one inserts the character
// itself into the text. Arrow keys move in the grid, Escape closes it.
import { Smile } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { inGrid, usePopover } from "../../ui/popover.js";

/** Every one of these is listed in client/emoji-set.txt, which the build copies. */
export const PICKER = [
  "😀", "😃", "😄", "😁", "😅", "😂", "🙂", "😉", "😊", "😍", "😘", "😎", "🤩", "🤔", "🙄", "😐",
  "😮", "😢", "😭", "😡", "🥳", "😴", "🤯", "👍", "👎", "👏", "🙌", "🙏", "💪", "👋", "✋", "👀",
  "❤️", "🔥", "🎉", "✅", "❌", "⭐", "💯", "☕", "📌", "💡",
];
const COLUMNS = 8;

export function EmojiPicker({ onPick, disabled }) {
  const { open, setOpen, root, trigger, onKeyDown } = usePopover({
    choices: ".emoji-choice", move: inGrid(COLUMNS),
  });
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
