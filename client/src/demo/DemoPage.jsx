// The demo page: a header with the language and theme, then one view. "create" (the form, then
// the links once a room is made), "created" (the links, from the no-script form), "join" (a name
// for an invite link), "invalid" or "error" (a link that does not lead anywhere).
import { useEffect, useState } from "preact/hooks";
import { LayoutPanelTop, MessagesSquare, Video, Vote } from "lucide-preact";
import { t } from "../core/i18n.js";
import { ThemeToggle } from "../ui/ThemeToggle.jsx";
import { LanguagePicker } from "./LanguagePicker.jsx";
import { CreateForm } from "./CreateForm.jsx";
import { RoomLinks } from "./RoomLinks.jsx";
import { JoinForm } from "./JoinForm.jsx";

const TITLES = { create: "demo.createTitle", created: "demo.readyTitle", join: "demo.joinTitle" };

function Intro() {
  return (
    <section class="demo-intro" aria-labelledby="demo-tagline">
      <h1 id="demo-tagline">{t("demo.tagline")}</h1>
      <p>{t("demo.pitch")}</p>
      <div class="demo-icons" aria-hidden="true">
        <Video size={22} /><LayoutPanelTop size={22} /><MessagesSquare size={22} /><Vote size={22} />
      </div>
    </section>
  );
}

function CannotJoin({ message }) {
  return (
    <section class="demo-card" aria-labelledby="demo-title">
      <h1 id="demo-title">{t("demo.invalidTitle")}</h1>
      <p id="demo-message">{message || t("demo.invalid")}</p>
      <a class="button" href="/demo">{t("demo.backHome")}</a>
    </section>
  );
}

export function DemoPage({ shell }) {
  const [room, setRoom] = useState(
    shell.view === "created" ? { name: shell.name, moderator: shell.moderator, viewer: shell.viewer, open: shell.open } : null,
  );
  const view = room ? "created" : shell.view;
  const landing = view === "create" || view === "created";
  const title = t(TITLES[view] || "demo.invalidTitle");
  useEffect(() => {
    document.title = `${title} · sala`;
  }, [title]);
  return (
    <div class="demo" data-view={view}>
      <header class="demo-top">
        <a class="wordmark demo-brand" href="/demo">sala</a>
        <div class="demo-tools">
          <LanguagePicker />
          <ThemeToggle label={t("demo.theme")} />
        </div>
      </header>
      <main class={`demo-main ${landing ? "" : "single"}`}>
        {landing && <Intro />}
        {view === "create" && (
          <CreateForm
            passphrase={shell.passphrase === "required"}
            refused={shell.error}
            minutes={shell.minutes}
            people={shell.people}
            onCreated={setRoom}
          />
        )}
        {view === "created" && <RoomLinks room={room} onAgain={() => (shell.view === "created" ? location.assign("/demo") : setRoom(null))} />}
        {view === "join" && <JoinForm meeting={shell.meeting} linkKey={shell.key} role={shell.role} />}
        {(view === "invalid" || view === "error") && <CannotJoin message={shell.message} />}
      </main>
    </div>
  );
}
