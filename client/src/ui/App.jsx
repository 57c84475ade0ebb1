// The whole page: the notice while there is no room, else the frame (banner, top bar,
// navigation, side panel, stage, action bar) and the page-wide overlays.
import { t } from "../core/i18n.js";
import { flag, phase, meeting } from "../core/store.js";
import { Notice } from "./Notice.jsx";
import { TopBar } from "./TopBar.jsx";
import { NavPanel, SidePanel } from "./Sidebar.jsx";
import { ActionBar } from "./ActionBar.jsx";
import { Toasts } from "./Toasts.jsx";
import { ShortcutsDialog } from "./ShortcutsDialog.jsx";
import { RecordingNotice } from "./RecordingNotice.jsx";
import { overlays } from "./registry.js";
import "./frameShortcuts.js";
import { layoutName, Stage } from "../features/stage/index.jsx";
import "../features/people/index.jsx";
import "../features/chat/index.jsx";
import "../features/notes/index.jsx";
import "../features/polls/index.jsx";
import "../features/presentation/index.jsx";

function Banner() {
  const m = meeting.value;
  if (!m?.bannerText) return null;
  const style = m.bannerColor ? { background: m.bannerColor, color: "#fff" } : undefined;
  return <div id="banner" class="banner" style={style}>{m.bannerText}</div>;
}

export function App() {
  const p = phase.value;
  const inRoom = p.kind === "room";
  return (
    <>
      {inRoom ? (
        <div class="app" data-layout={layoutName.value}>
          <Banner />
          {/* userdata-bbb_hide_nav_bar / bbb_hide_actions_bar: integrators embedding the room. */}
          {!flag("bbb_hide_nav_bar", false) && <TopBar />}
          {p.reconnecting && <div class="reconnecting" role="status">{t("reconnecting")}</div>}
          <main id="room" class="room">
            <NavPanel />
            <SidePanel />
            <Stage />
          </main>
          {!flag("bbb_hide_actions_bar", false) && <ActionBar />}
        </div>
      ) : (
        <Notice />
      )}
      {overlays.value.map((Overlay, i) => <Overlay key={i} />)}
      <ShortcutsDialog />
      {inRoom && <RecordingNotice />}
      <Toasts />
    </>
  );
}
