// The bar across the top: branding, the meeting's name, the recording indicator with its
// elapsed time, the connection indicator, settings, theme, and the leave/end menu.
import { useEffect, useState } from "preact/hooks";
import { Circle, LogOut, PhoneOff, Settings } from "lucide-preact";
import { t } from "../core/i18n.js";
import { send } from "../core/connection.js";
import { dark } from "../core/theme.js";
import { finish, isModerator, meeting } from "../core/store.js";
import { panels } from "./layout.js";
import { leaveMedia, ConnectionIndicator } from "../features/stage/index.jsx";
import { Menu } from "./Menu.jsx";
import { Modal } from "./Modal.jsx";
import { ThemeToggle } from "./ThemeToggle.jsx";

export function leave() {
  leaveMedia();
  send({ type: "leave" });
  finish("left", meeting.value?.logoutUrl);
}

function elapsed(since, now) {
  const s = Math.max(0, Math.floor((now - since) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

function RecordingIndicator() {
  const m = meeting.value;
  const [now, setNow] = useState(Date.now());
  const [since, setSince] = useState(null);
  useEffect(() => {
    if (!m?.recording) return setSince(null);
    setSince((s) => s ?? m.recordingSince ?? Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [m?.recording]);
  const canToggle = m?.record && m.allowStartStopRecording && isModerator.value;
  if (!m?.record && !m?.recording) return null;
  return (
    <div class="recording-area">
      {m.recording && (
        <span id="recording" class="recording-pill" role="status">
          <Circle size={10} fill="currentColor" aria-hidden="true" />
          <span>{t("recording")}</span>
          {since && <time class="elapsed">{elapsed(since, now)}</time>}
        </span>
      )}
      {canToggle && (
        <button
          id="record"
          type="button"
          class={m.recording ? "secondary" : "secondary"}
          aria-pressed={String(Boolean(m.recording))}
          onClick={() => send({ type: "recording.set", recording: !m.recording })}
        >
          {t(m.recording ? "stopRecording" : "startRecording")}
        </button>
      )}
    </div>
  );
}

function Branding() {
  const m = meeting.value;
  const logo = dark.value ? m?.darklogo || m?.logo : m?.logo;
  return logo ? <img id="logo" class="logo" src={logo} alt="" /> : <span class="wordmark" aria-hidden="true">sala</span>;
}

export function TopBar() {
  const [confirmEnd, setConfirmEnd] = useState(false);
  return (
    <header class="topbar">
      <Branding />
      <h1 id="meeting-name" class="meeting-name">{meeting.value?.name || "sala"}</h1>
      <RecordingIndicator />
      <div class="topbar-actions">
        <ConnectionIndicator />
        <button
          id="settings"
          type="button"
          class="ghost icon-only"
          aria-label={t("settings")}
          data-tooltip={t("settings")}
          onClick={() => (panels.settings.value = true)}
        >
          <Settings size={20} aria-hidden="true" />
        </button>
        <ThemeToggle label={t("theme")} />
        <Menu
          id="leave-menu"
          label={t("leaveMenu")}
          triggerClass="danger leave-trigger"
          trigger={<><LogOut size={18} aria-hidden="true" /><span class="label">{t("leave")}</span></>}
          items={[
            { key: "leave", label: t("leaveMeeting"), icon: LogOut, run: leave },
            isModerator.value && { key: "end", label: t("endMeeting"), icon: PhoneOff, danger: true, run: () => setConfirmEnd(true) },
          ]}
        />
      </div>
      <Modal
        id="confirm-end"
        open={confirmEnd}
        title={t("endMeeting")}
        onClose={(value) => {
          setConfirmEnd(false);
          if (value === "end") send({ type: "meeting.end" });
        }}
      >
        <p>{t("confirmEnd")}</p>
        <footer class="modal-actions">
          <button value="cancel" class="secondary">{t("cancel")}</button>
          <button value="end" class="danger">{t("endMeeting")}</button>
        </footer>
      </Modal>
    </header>
  );
}
