// Opening an invite link: the visitor's name, then the server joins them with the link's role
// (GET /demo/join with the name and the page's language).
import { LogIn } from "lucide-preact";
import { locale, t } from "../core/i18n.js";

export function JoinForm({ meeting, linkKey, role }) {
  return (
    <section class="demo-card" aria-labelledby="demo-title">
      <h1 id="demo-title">{t("demo.joinTitle")}</h1>
      <p class="demo-note">{t(role === "MODERATOR" ? "demo.joinAsModerator" : "demo.joinAsViewer")}</p>
      <form id="join-form" class="demo-form" method="get" action="/demo/join">
        <input type="hidden" name="meeting" value={meeting} />
        <input type="hidden" name="key" value={linkKey} />
        <input type="hidden" name="lang" value={locale.value} />
        <label class="field">
          <span>{t("demo.yourName")}</span>
          <input id="full-name" name="fullName" required maxLength={100} autoComplete="name" autoFocus />
        </label>
        <button id="join" class="wide">
          <LogIn size={18} aria-hidden="true" />
          {t("demo.join")}
        </button>
      </form>
    </section>
  );
}
