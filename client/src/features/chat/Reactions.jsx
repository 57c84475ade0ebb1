// The reactions under a message: one chip per emoji with its count, mine highlighted; a click
// gives or takes back my reaction. The chip's name and tooltip say who reacted.
import { t } from "../../core/i18n.js";
import { me, users } from "../../core/store.js";
import { Emoji } from "../../ui/Emoji.jsx";

function who(ids) {
  const mine = me.value?.id;
  const names = ids.map((id) => (id === mine ? t("youReacted") : users.value.get(id)?.name || t("someoneLeft")));
  return names.join(", ");
}

export function Reactions({ message, enabled, onToggle }) {
  if (!message.reactions.length) return null;
  const mine = me.value?.id;
  return (
    <div class="chat-reactions">
      {message.reactions.map((reaction) => {
        const given = reaction.users.includes(mine);
        const label = t("reactedWith", { emoji: reaction.emoji, count: reaction.users.length, names: who(reaction.users) });
        return (
          <button
            key={reaction.emoji}
            type="button"
            class={`chat-reaction ${given ? "mine" : ""}`}
            data-emoji={reaction.emoji}
            aria-pressed={String(given)}
            aria-label={label}
            title={label}
            disabled={!enabled}
            onClick={() => onToggle(reaction.emoji)}
          >
            <Emoji char={reaction.emoji} size={16} label="" />
            <span class="chat-reaction-count">{reaction.users.length}</span>
          </button>
        );
      })}
    </div>
  );
}
