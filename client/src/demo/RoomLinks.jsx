// A room just made: its invite links to copy (moderator and viewer) and the way in for its
// creator, who is moderator.
import { LogIn, Plus } from "lucide-preact";
import { t } from "../core/i18n.js";
import { CopyLink } from "./CopyLink.jsx";

export function RoomLinks({ room, onAgain }) {
  return (
    <section id="room-links" class="demo-card" aria-labelledby="ready-title">
      <div>
        <h2 id="ready-title">{t("demo.readyTitle")}</h2>
        <p id="room-name" class="demo-room-name">{room.name}</p>
      </div>
      <p class="demo-note">{t("demo.readyHint")}</p>
      <CopyLink id="viewer-link" label={t("demo.viewerLink")} url={room.viewer} />
      <CopyLink id="moderator-link" label={t("demo.moderatorLink")} url={room.moderator} />
      <a id="open-room" class="button wide" href={room.open}>
        <LogIn size={18} aria-hidden="true" />
        {t("demo.open")}
      </a>
      <button id="create-another" type="button" class="secondary wide" onClick={onAgain}>
        <Plus size={18} aria-hidden="true" />
        {t("demo.another")}
      </button>
    </section>
  );
}
