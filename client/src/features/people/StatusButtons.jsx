// My own status in the action bar: raise or lower my hand, a reaction (a popover of eight
// Twemoji), and away / back.
import { Coffee, Hand, SmilePlus } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { send } from "../../core/connection.js";
import { disabled, me } from "../../core/store.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { IconButton } from "../../ui/IconButton.jsx";
import { inRow, usePopover } from "../../ui/popover.js";
import { REACTIONS } from "./people.js";

export function toggleHand() {
  if (me.value && !disabled("raiseHand")) send({ type: "hand.set", raised: !me.value.hand });
}

function ReactionsButton() {
  const { open, setOpen, root, trigger, onKeyDown } = usePopover({
    choices: ".reaction", first: ".reaction[aria-pressed=true]", move: inRow,
  });
  const current = me.value?.reaction || null;
  const close = (refocus) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  };
  const choose = (emoji) => {
    send({ type: "reaction.set", emoji: current === emoji ? null : emoji });
    close(true);
  };
  return (
    <div class="reactions-anchor" ref={root} onKeyDown={onKeyDown}>
      <button
        ref={trigger}
        id="reactions"
        type="button"
        class={`icon-button ${current ? "has-reaction" : ""}`}
        aria-label={t("reactions")}
        data-tooltip={t("reactions")}
        aria-haspopup="true"
        aria-expanded={String(open)}
        aria-controls="reactions-popover"
        onClick={() => setOpen(!open)}
      >
        {current ? <Emoji char={current} size={22} label="" /> : <SmilePlus size={20} aria-hidden="true" />}
      </button>
      {open && (
        <div id="reactions-popover" class="reactions-popover" role="group" aria-label={t("reactions")}>
          {REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              class="reaction"
              aria-pressed={String(current === emoji)}
              aria-label={emoji}
              data-emoji={emoji}
              tabIndex={-1}
              onClick={() => choose(emoji)}
            >
              <Emoji char={emoji} size={28} label="" />
            </button>
          ))}
          {current && (
            <button type="button" class="reaction clear-reaction" tabIndex={-1} data-emoji="" onClick={() => choose(current)}>
              {t("clearReaction")}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

export function StatusButtons() {
  const mine = me.value;
  if (!mine) return null;
  return (
    <>
      {!disabled("raiseHand") && (
        <IconButton
          id="hand"
          icon={Hand}
          label={mine.hand ? t("lowerHand") : t("raiseHand")}
          shortcut="Alt+Shift+R"
          pressed={mine.hand}
          tone={mine.hand ? "hand" : undefined}
          onClick={toggleHand}
        />
      )}
      {!disabled("userReactions") && <ReactionsButton />}
      <IconButton
        id="away"
        icon={Coffee}
        label={mine.away ? t("back") : t("away")}
        pressed={mine.away}
        onClick={() => send({ type: "away.set", away: !mine.away })}
      />
    </>
  );
}
