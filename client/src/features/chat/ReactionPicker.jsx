// The "react" button of a message's toolbar: a row of the room's reaction emoji (Twemoji);
// arrows move, Enter picks (picking one I gave takes it back), Escape closes.
import { useLayoutEffect, useState } from "preact/hooks";
import { SmilePlus } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { me } from "../../core/store.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { inRow, usePopover } from "../../ui/popover.js";

/** The server's reaction set (protocol.md, reaction.set) that the room has pictures for. */
export const CHAT_REACTIONS = ["👍", "👎", "👏", "😂", "😮", "❤️", "🎉", "🤔", "🙋", "☕"];

export function ReactionPicker({ message, onPick }) {
  const [place, setPlace] = useState(null);
  const { open, setOpen, root, trigger, onKeyDown } = usePopover({
    choices: ".chat-reaction-choice", move: inRow, ready: place !== null,
  });
  const mine = me.value?.id;
  const given = new Set(message.reactions.filter((r) => r.users.includes(mine)).map((r) => r.emoji));
  // Fixed coordinates beside the button (above it when there is room), so that neither the
  // scrolling list nor the panel's edge cuts the row off.
  useLayoutEffect(() => {
    if (!open) return setPlace(null);
    const row = root.current.querySelector(".chat-reaction-picker");
    const box = trigger.current.getBoundingClientRect();
    const above = box.top - 6 - row.offsetHeight >= 8;
    setPlace({
      position: "fixed",
      top: `${above ? box.top - 6 - row.offsetHeight : box.bottom + 6}px`,
      left: `${Math.max(8, Math.min(innerWidth - row.offsetWidth - 8, box.right - row.offsetWidth))}px`,
      right: "auto", bottom: "auto",
    });
  }, [open]);
  return (
    <div class="chat-reaction-anchor" ref={root} onKeyDown={onKeyDown}>
      <button
        ref={trigger}
        type="button"
        class="ghost icon-only message-react"
        aria-label={t("react")}
        data-tooltip={t("react")}
        aria-haspopup="true"
        aria-expanded={String(open)}
        onClick={() => setOpen(!open)}
      >
        <SmilePlus size={16} aria-hidden="true" />
      </button>
      {open && (
        <div class="chat-reaction-picker" role="group" aria-label={t("react")} style={place || { visibility: "hidden" }}>
          {CHAT_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              class="chat-reaction-choice"
              aria-label={emoji}
              aria-pressed={String(given.has(emoji))}
              data-emoji={emoji}
              tabIndex={-1}
              onClick={() => {
                setOpen(false);
                trigger.current?.focus();
                onPick(emoji);
              }}
            >
              <Emoji char={emoji} size={22} label="" />
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
