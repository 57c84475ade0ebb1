// The page when there is no room to show: connecting, waiting in the lobby, or a final message
// (left, ended, removed, denied) with the meeting's logout link.
import { Loader2 } from "lucide-preact";
import { t } from "../core/i18n.js";
import { meeting, phase } from "../core/store.js";

const KEYS = { connecting: "connecting", lobby: "lobbyWaiting" };

export function Notice() {
  const p = phase.value;
  const key = p.key || KEYS[p.kind] || "connecting";
  const waiting = p.kind === "connecting" || p.kind === "lobby";
  return (
    <section id="notice" class="notice" aria-live="assertive">
      <div class="notice-card">
        {meeting.value?.name && <p class="notice-meeting">{meeting.value.name}</p>}
        {waiting && <Loader2 class="spin" size={28} aria-hidden="true" />}
        <p id="notice-text">{t(key)}</p>
        {p.link && <a id="notice-link" class="button primary" href={p.link}>{t("goOn")}</a>}
      </div>
    </section>
  );
}
