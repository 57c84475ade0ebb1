// The steps a person goes through to join audio or share a webcam, as BBB's client asks them:
// the audio choice (microphone or listen only), the echo test (or, when it cannot run, the
// microphone check with a level), the webcam preview. Each step opens a dialog through the
// `asking` signal and waits for the button pressed in it.
import { signal } from "@preact/signals";
import { t } from "../../core/i18n.js";
import { flag, me, toast } from "../../core/store.js";
import { prefs } from "./devices.js";
import {
  available, audioMode, canShareCamera, echo, forcedListenOnly, joinAudio, micLocked,
  preferredProfile, publish, shareCamera, startEcho, stopEcho, stopStream, unpublish,
} from "./media.js";

/** The dialog shown now: null or { kind: "audio" | "echo" | "mic" | "camera", resolve, … }. */
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

let audioChosen = false; // a first audio join was decided (bbb_skip_check_audio_on_first_join)

/** bbb_skip_check_audio skips the check always; …_on_first_join only for the first join. */
function skipCheck() {
  return flag("bbb_skip_check_audio", false) || (!audioChosen && flag("bbb_skip_check_audio_on_first_join", false));
}

// BBB's audio choice: microphone (after the echo test, unless skipped) or listen-only.
export async function chooseAudio() {
  if (audioMode.value || asking.value) return undefined;
  const skip = skipCheck();
  audioChosen = true;
  if (micLocked() || forcedListenOnly()) return joinAudio(true);
  if (!listenOffered()) return skip ? joinAudio(false) : echoTest();
  const choice = await ask("audio");
  if (choice === "listen") return joinAudio(true);
  if (choice === "mic") return skip ? joinAudio(false) : echoTest();
  return undefined;
}

/** From listen-only to the microphone without leaving the audio: the stream plays until the
 * microphone is connected (after the echo test, unless skipped, as for a first join). */
export async function switchToMicrophone() {
  if (audioMode.value !== "listen" || asking.value) return undefined;
  if (micLocked() || forcedListenOnly()) {
    toast(t("micNotAllowed"), { kind: "error" });
    return undefined;
  }
  return skipCheck() ? joinAudio(false) : echoTest();
}

/** From the microphone to listen-only: the bridge is left once the stream plays. */
export function switchToListening() {
  if (audioMode.value !== "mic") return undefined;
  return joinAudio(true);
}

/** The echo test's step in its dialog: "test" (hearing oneself) or "devices" (after "No"). */
export const echoStep = signal("test");

function runEcho() {
  startEcho().catch((error) => {
    if (error.code === "stopped" || asking.value?.kind !== "echo") return;
    answer({ fallback: error }); // the server refused or media is unavailable: the level check
  });
}

/** "No, I do not hear myself": the test stops and the microphone and speaker can be changed. */
export function echoNotHeard() {
  stopEcho();
  echoStep.value = "devices";
}

/** "Try again" with the devices chosen. */
export function echoAgain() {
  echoStep.value = "test";
  runEcho();
}

// BBB's echo test: the voice comes back through the media server; "Yes" joins with that
// microphone, "No" lets the devices be changed and the test run again.
async function echoTest() {
  echoStep.value = "test";
  const pending = ask("echo");
  runEcho();
  const choice = await pending;
  if (choice === "yes" && echo.value) return joinAudio(false, stopEcho(true));
  stopEcho();
  if (choice?.fallback) return micCheck(choice.fallback);
  if (choice === "listen") return joinAudio(true);
  return undefined;
}

/** Why the echo test could not run, as the microphone check says it. */
function reasonOf(error) {
  if (error.code === "locked") return "echoLocked";
  if (error.code === "forbidden") return "echoForbidden";
  if (error.name === "NotFoundError" || error.name === "OverconstrainedError") return "noMicrophone";
  if (error.name === "NotAllowedError") return "micDenied";
  return "echoUnavailable";
}

// The microphone check: the user sees their level move before joining with it.
async function micCheck(error = null) {
  const choice = await ask("mic", { reason: error ? reasonOf(error) : null });
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

