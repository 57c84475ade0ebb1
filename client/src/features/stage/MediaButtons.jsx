// The action bar's media controls: join audio, mute, leave audio, webcam and screen share, each
// an icon button with a tooltip naming its keyboard shortcut; a small arrow beside the
// microphone and the webcam opens the device settings.
import { ChevronUp, Headphones, LoaderCircle, Mic, MicOff, PhoneOff, ScreenShare, ScreenShareOff, Video, VideoOff } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { toast } from "../../core/store.js";
import { IconButton } from "../../ui/IconButton.jsx";
import { panels } from "../../ui/layout.js";
import { layout } from "./layouts.js";
import {
  audioJoining, audioMode, available, canShareCamera, canShareScreen, leaveAudio, micMuted, published,
  setMuted, shareScreen, unpublish,
} from "./media.js";
import { chooseAudio, listenOffered, switchToListening, switchToMicrophone, toggleCamera } from "./flows.js";
import { settingsTab } from "./SettingsDialog.jsx";

export const SHORTCUTS = {
  mute: "Alt+M", joinAudio: "Alt+Shift+J", leaveAudio: "Alt+Shift+L", camera: "Alt+Shift+W", screen: "Alt+Shift+S",
};

function openSettings(tab) {
  settingsTab.value = tab;
  panels.settings.value = true;
}

function DeviceArrow({ tab, label }) {
  return (
    <button type="button" class="device-arrow" aria-label={label} data-tooltip={label} onClick={() => openSettings(tab)}>
      <ChevronUp size={14} aria-hidden="true" />
    </button>
  );
}

export function toggleScreen() {
  if (published.value.has("screen")) return unpublish("screen");
  if (!canShareScreen()) return undefined;
  return shareScreen().catch((e) => {
    if (e.name !== "NotAllowedError") toast(e.message, { kind: "error" });
  });
}

export function joinAudioNow() {
  if (!available.value || audioMode.value || audioJoining.value) return undefined;
  return chooseAudio().catch((e) => toast(e.message, { kind: "error" }));
}

export function MediaButtons() {
  if (!available.value) return null;
  const mode = audioMode.value;
  const muted = micMuted.value;
  const camera = published.value.has("camera");
  const screen = published.value.has("screen");
  // BBB hides the webcam button in layouts that show no webcams.
  const cameraShown = (canShareCamera() || camera) && layout.value.cameras;
  return (
    <div class="media-buttons" role="group" aria-label={t("audio")}>
      {mode === null && (
        <IconButton
          id="audio-join"
          icon={audioJoining.value ? LoaderCircle : Headphones}
          class={audioJoining.value ? "busy" : ""}
          label={audioJoining.value ? t("audioJoining") : t("joinAudio")}
          shortcut={SHORTCUTS.joinAudio}
          onClick={joinAudioNow}
        />
      )}
      {mode === "listen" && (
        <IconButton
          id="use-mic"
          icon={audioJoining.value ? LoaderCircle : MicOff}
          tone="muted"
          label={t("useMicrophone")}
          onClick={() => switchToMicrophone().catch((e) => toast(e.message, { kind: "error" }))}
        />
      )}
      {mode === "mic" && listenOffered() && (
        <IconButton
          id="use-listen"
          icon={audioJoining.value ? LoaderCircle : Headphones}
          label={t("listenOnlyInstead")}
          onClick={() => switchToListening().catch((e) => toast(e.message, { kind: "error" }))}
        />
      )}
      {mode === "mic" && (
        <span class="with-arrow">
          <IconButton
            id="mute"
            icon={muted ? MicOff : Mic}
            tone={muted ? "muted" : "live"}
            label={muted ? t("unmute") : t("mute")}
            pressed={muted}
            shortcut={SHORTCUTS.mute}
            onClick={() => setMuted(!muted)}
          />
          <DeviceArrow tab="audio" label={t("tabAudio")} />
        </span>
      )}
      {mode !== null && (
        <IconButton id="audio-leave" icon={PhoneOff} label={t("leaveAudio")} shortcut={SHORTCUTS.leaveAudio} onClick={() => leaveAudio()} />
      )}
      {cameraShown && (
        <span class="with-arrow">
          <IconButton
            id="camera"
            icon={camera ? Video : VideoOff}
            label={camera ? t("stopCamera") : t("shareCamera")}
            pressed={camera}
            shortcut={SHORTCUTS.camera}
            onClick={() => toggleCamera(!camera)}
          />
          <DeviceArrow tab="video" label={t("tabVideo")} />
        </span>
      )}
      {(canShareScreen() || screen) && (
        <IconButton
          id="screen"
          icon={screen ? ScreenShareOff : ScreenShare}
          label={screen ? t("stopScreen") : t("shareScreen")}
          pressed={screen}
          shortcut={SHORTCUTS.screen}
          onClick={toggleScreen}
        />
      )}
    </div>
  );
}
