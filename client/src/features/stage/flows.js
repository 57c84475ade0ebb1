// The steps a person goes through to join audio or share a webcam, as BBB's client asks them:
// the audio choice (microphone or listen only), the microphone check, the webcam preview. Each
// step opens a dialog through the `asking` signal and waits for the button pressed in it.
import { signal } from "@preact/signals";
import { flag, me, toast } from "../../core/store.js";
import { prefs } from "./devices.js";
import {
  available, audioMode, canShareCamera, forcedListenOnly, joinAudio, micLocked,
  preferredProfile, publish, shareCamera, stopStream, unpublish,
} from "./media.js";

/** The dialog shown now: null or { kind: "audio" | "mic" | "camera", resolve }. */
export const asking = signal(null);

function ask(kind, extra = {}) {
  return new Promise((resolve) => {
    asking.value = { kind, ...extra, resolve };
  });
}

export function answer(value) {
  const open = asking.value;
  asking.value = null;
  open?.resolve(value);
}

/** Forcing listen-only offers it to moderators even when bbb_listen_only_mode is false (BBB). */
export const listenOffered = () => flag("bbb_listen_only_mode", true) || flag("bbb_force_listen_only", false);

// BBB's audio choice: microphone (after a check, unless skipped) or listen-only.
export async function chooseAudio() {
  if (audioMode.value || asking.value) return undefined;
  const skipCheck = flag("bbb_skip_check_audio", false);
  if (micLocked() || forcedListenOnly()) return joinAudio(true);
  if (!listenOffered()) return skipCheck ? joinAudio(false) : micCheck();
  const choice = await ask("audio");
  if (choice === "listen") return joinAudio(true);
  if (choice === "mic") return skipCheck ? joinAudio(false) : micCheck();
  return undefined;
}

// The microphone check: the user sees their level move before joining with it.
async function micCheck() {
  const choice = await ask("mic");
  if (choice === "ok") return joinAudio(false);
  if (choice === "listen") return joinAudio(true);
  return undefined;
}

let profileOffered = false;

/** The webcam preview: device, quality and mirror; the stream shown becomes the one shared. */
export async function openCameraPreview() {
  if (asking.value) return undefined;
  // bbb_preferred_camera_profile is preselected the first time; later the user's last choice.
  const quality = !profileOffered && preferredProfile() ? preferredProfile() : prefs.value.quality || "medium";
  profileOffered = true;
  const result = await ask("camera", { quality });
  if (!result || result.value !== "share" || !result.stream) {
    stopStream(result?.stream);
    return undefined;
  }
  return publish("camera", result.stream);
}

export function toggleCamera(on) {
  if (!on) return unpublish("camera");
  return openCameraPreview().catch((e) => toast(e.message, { kind: "error" }));
}

/** After the first welcome: join audio and share the webcam as the join's userdata asks. */
export async function startMedia() {
  if (!available.value || !me.value) return;
  if (flag("bbb_auto_join_audio", true)) await chooseAudio().catch((e) => toast(e.message, { kind: "error" }));
  if (flag("bbb_auto_share_webcam", false) && canShareCamera()) {
    if (flag("bbb_skip_video_preview", false)) {
      await shareCamera(preferredProfile() || prefs.value.quality || "medium").catch((e) => toast(e.message, { kind: "error" }));
    } else await openCameraPreview().catch((e) => toast(e.message, { kind: "error" }));
  }
}

