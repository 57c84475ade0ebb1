// The guests waiting for a moderator: allow or deny each, or everybody at once, and a message
// for those still waiting (BBB's guest lobby message).
import { useState } from "preact/hooks";
import { Check, Send, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { send } from "../../core/connection.js";
import { lobby } from "../../core/store.js";
import { decide } from "./people.js";

export function WaitingRoom() {
  const [text, setText] = useState("");
  const guests = lobby.value;
  return (
    <section id="lobby" class="waiting-room" aria-labelledby="lobby-title">
      <header class="waiting-head">
        <h3 id="lobby-title">{t("waitingGuests")}</h3>
        <span class="count-pill warning" aria-label={t("waitingCount", { count: guests.length })}>{guests.length}</span>
      </header>
      <ul id="lobby-list" class="lobby-list">
        {guests.map((guest) => (
          <li key={guest.id} data-guest={guest.id}>
            <span class="guest-name">{guest.name}</span>
            <button type="button" class="ghost icon-only allow" aria-label={t("allowGuest", { name: guest.name })} data-tooltip={t("allow")} onClick={() => decide(true, guest.id)}>
              <Check size={16} aria-hidden="true" />
            </button>
            <button type="button" class="ghost icon-only deny" aria-label={t("denyGuest", { name: guest.name })} data-tooltip={t("deny")} onClick={() => decide(false, guest.id)}>
              <X size={16} aria-hidden="true" />
            </button>
          </li>
        ))}
      </ul>
      <div class="waiting-actions">
        <button id="allow-all" type="button" class="secondary" onClick={() => decide(true)}>{t("allowAll")}</button>
        <button id="deny-all" type="button" class="secondary" onClick={() => decide(false)}>{t("denyAll")}</button>
      </div>
      <form
        class="guest-message"
        onSubmit={(event) => {
          event.preventDefault();
          if (!text.trim()) return;
          send({ type: "lobby.message", text: text.trim() });
          setText("");
        }}
      >
        <input
          value={text}
          maxLength={500}
          placeholder={t("guestMessage")}
          aria-label={t("guestMessage")}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit" class="ghost icon-only" aria-label={t("sendGuestMessage")} data-tooltip={t("sendGuestMessage")}>
          <Send size={16} aria-hidden="true" />
        </button>
      </form>
    </section>
  );
}
