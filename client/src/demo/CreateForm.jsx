// Creating a room: its name, the creator's name, the passphrase when the server asks for one,
// and whether guests wait in a lobby. Sent as JSON to POST /demo/rooms; the form's own action
// (POST /demo) is what a browser without scripts uses.
import { useState } from "preact/hooks";
import { Loader2, Plus } from "lucide-preact";
import { locale, t } from "../core/i18n.js";

const REFUSALS = ["passphrase", "rate", "network", "other"];

async function createRoom(fields) {
  let answer;
  try {
    answer = await fetch("/demo/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(fields),
    });
  } catch {
    return { error: "network" };
  }
  const body = await answer.json().catch(() => ({}));
  if (answer.ok && body.open) return { room: body };
  return { error: REFUSALS.includes(body.error) ? body.error : "other" };
}

export function CreateForm({ passphrase, refused, minutes, people, onCreated }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(REFUSALS.includes(refused) ? refused : "");
  const [name, setName] = useState(null); // null: the default name, in the page's language
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError("");
    const { room, error: code } = await createRoom({
      name: String(form.get("name") || ""),
      fullName: String(form.get("fullName") || ""),
      passphrase: String(form.get("passphrase") || ""),
      lobby: form.get("lobby") === "1",
      lang: locale.value,
    });
    setBusy(false);
    if (room) onCreated(room);
    else setError(code);
  }
  return (
    <section class="demo-card" aria-labelledby="create-title">
      <h2 id="create-title">{t("demo.createTitle")}</h2>
      <form id="create-form" class="demo-form" method="post" action="/demo" onSubmit={submit}>
        <label class="field">
          <span>{t("demo.meetingName")}</span>
          <input id="meeting-name" name="name" required minLength={2} maxLength={100}
            value={name ?? t("demo.defaultName")} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t("demo.yourName")}</span>
          <input id="full-name" name="fullName" required maxLength={100} autoComplete="name" />
        </label>
        {passphrase && (
          <label class="field">
            <span>{t("demo.passphrase")}</span>
            <input id="passphrase" name="passphrase" type="password" required autoComplete="off" />
          </label>
        )}
        <label class="check">
          <input id="lobby" type="checkbox" name="lobby" value="1" />
          <span>{t("demo.lobby")}</span>
        </label>
        {error && <p id="create-error" class="demo-error" role="alert">{t(`demo.error.${error}`)}</p>}
        <button id="create" class="wide" disabled={busy}>
          {busy ? <Loader2 class="spin" size={18} aria-hidden="true" /> : <Plus size={18} aria-hidden="true" />}
          {t(busy ? "demo.creating" : "demo.create")}
        </button>
      </form>
      {minutes && <p class="demo-note">{t("demo.limits", { minutes, people })}</p>}
    </section>
  );
}
