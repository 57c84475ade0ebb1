// The settings opened from the top bar's gear: microphone, speaker and webcam (with a live level
// and a preview; kept per browser and applied at once), the layout, data saving, and the keyboard
// shortcuts and language.
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { Keyboard, Languages, LayoutDashboard, Mic, Video as VideoIcon, Volume2 } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { flag, toast } from "../../core/store.js";
import { Modal } from "../../ui/Modal.jsx";
import { panels } from "../../ui/layout.js";
import { applySink, canChooseSpeaker, prefs, savePref, useLevel } from "./devices.js";
import { DeviceSelect, Meter, QualitySelect, useCameraPreview, useMicPreview } from "./MediaDialogs.jsx";
import { LayoutPicker } from "./LayoutPicker.jsx";
import { published, stopStream, switchCamera, switchMicrophone } from "./media.js";
import { Video } from "./Tile.jsx";

export const settingsTab = signal("audio");

const TABS = [
  { id: "audio", icon: Mic, label: "tabAudio" },
  { id: "video", icon: VideoIcon, label: "tabVideo" },
  { id: "layout", icon: LayoutDashboard, label: "tabLayout" },
  { id: "general", icon: Keyboard, label: "tabGeneral" },
];

function playTestSound(speaker) {
  const context = new AudioContext();
  const tone = context.createOscillator();
  const gain = context.createGain();
  const out = context.createMediaStreamDestination();
  tone.frequency.value = 660;
  gain.gain.setValueAtTime(0.0001, context.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.3, context.currentTime + 0.05);
  gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 0.7);
  tone.connect(gain).connect(out);
  const element = new Audio();
  element.srcObject = out.stream;
  applySink(element, speaker);
  element.play().catch(() => {});
  tone.start();
  tone.stop(context.currentTime + 0.75);
  setTimeout(() => context.close(), 1000);
}

function AudioTab({ open }) {
  const mic = prefs.value.microphone;
  const stream = useMicPreview(open, mic);
  const level = useLevel(stream);
  const speaker = prefs.value.speaker;
  return (
    <div class="settings-section">
      <DeviceSelect
        id="settings-mic"
        kind="audioinput"
        label={t("microphone")}
        value={mic}
        onChange={(v) => {
          savePref("microphone", v);
          switchMicrophone().catch((e) => toast(e.message, { kind: "error" }));
        }}
      />
      <Meter id="settings-mic-level" level={level} />
      {canChooseSpeaker ? (
        <div class="field-with-action">
          <DeviceSelect id="settings-speaker" kind="audiooutput" label={t("speaker")} value={speaker} onChange={(v) => savePref("speaker", v)} />
          <button type="button" class="secondary" onClick={() => playTestSound(speaker)}>
            <Volume2 size={16} aria-hidden="true" />
            {t("testSpeaker")}
          </button>
        </div>
      ) : (
        <p class="muted-text">{t("speakerUnsupported")}</p>
      )}
      <p class="muted-text">{t("devicesKept")}</p>
    </div>
  );
}

function VideoTab({ open }) {
  const camera = prefs.value.camera;
  const quality = prefs.value.quality || "medium";
  const mirrored = prefs.value.mirror ?? flag("bbb_mirror_own_webcam", false);
  const { stream, current } = useCameraPreview(open, "low", camera);
  useEffect(() => () => {
    stopStream(current.current);
    current.current = null;
  }, [open]);
  return (
    <div class="settings-section">
      <DeviceSelect
        id="settings-camera"
        kind="videoinput"
        label={t("camera")}
        value={camera}
        onChange={(v) => {
          savePref("camera", v);
          if (published.value.has("camera")) switchCamera(quality, v || undefined).catch((e) => toast(e.message, { kind: "error" }));
        }}
      />
      <div class="camera-preview-frame small">
        <Video id="settings-preview" stream={stream} class={`camera-preview ${mirrored ? "mirrored" : ""}`} />
        {!stream && <span class="camera-preview-wait">{t("noCamera")}</span>}
      </div>
      <div class="fields-row">
        <QualitySelect id="settings-quality" value={quality} onChange={(v) => savePref("quality", v)} />
        <label class="check">
          <input id="settings-mirror" type="checkbox" checked={mirrored} onChange={(e) => savePref("mirror", e.currentTarget.checked)} />
          <span>{t("mirror")}</span>
        </label>
      </div>
    </div>
  );
}

function GeneralTab() {
  return (
    <div class="settings-section">
      <button
        type="button"
        id="open-shortcuts"
        class="secondary"
        onClick={() => {
          panels.settings.value = false;
          panels.shortcuts.value = true;
        }}
      >
        <Keyboard size={16} aria-hidden="true" />
        {t("shortcuts")}
      </button>
      <p class="muted-text language-note">
        <Languages size={16} aria-hidden="true" />
        <span>{t("languageNote", { language: t("languageName") })}</span>
      </p>
    </div>
  );
}

export function SettingsDialog() {
  const open = panels.settings.value;
  const tab = settingsTab.value;
  const onKey = (event) => {
    const at = TABS.findIndex((x) => x.id === tab);
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = TABS[(at + step + TABS.length) % TABS.length];
    settingsTab.value = next.id;
    document.getElementById(`settings-tab-${next.id}`)?.focus();
  };
  return (
    <Modal id="settings-dialog" open={open} title={t("settings")} wide onClose={() => (panels.settings.value = false)}>
      <div class="settings">
        <div class="settings-tabs" role="tablist" aria-orientation="vertical" aria-label={t("settings")} onKeyDown={onKey}>
          {TABS.map((x) => (
            <button
              key={x.id}
              type="button"
              role="tab"
              id={`settings-tab-${x.id}`}
              aria-selected={String(tab === x.id)}
              aria-controls={`settings-panel-${x.id}`}
              tabIndex={tab === x.id ? 0 : -1}
              class="settings-tab"
              onClick={() => (settingsTab.value = x.id)}
            >
              <x.icon size={18} aria-hidden="true" />
              <span>{t(x.label)}</span>
            </button>
          ))}
        </div>
        <div class="settings-panel" role="tabpanel" id={`settings-panel-${tab}`} aria-labelledby={`settings-tab-${tab}`}>
          {tab === "audio" && <AudioTab open={open} />}
          {tab === "video" && <VideoTab open={open} />}
          {tab === "layout" && <LayoutPicker />}
          {tab === "general" && <GeneralTab />}
        </div>
      </div>
    </Modal>
  );
}
