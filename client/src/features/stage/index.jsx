// The stage feature: media (audio, webcams, screen sharing), the stage that shows them with the
// presentation per BBB's layouts, the action bar's media buttons, device settings, and the
// connection indicator. Other features use only what this file exports.
import { effect } from "@preact/signals";
import { register } from "../../core/i18n.js";
import { me, on, intercept } from "../../core/store.js";
import { bind } from "../../core/shortcuts.js";
import { registerOverlay } from "../../ui/registry.js";
import words from "./words.js";
import "./stage.css";
import * as media from "./media.js";
import { layoutPushed, startLayout, wantedFeeds } from "./layouts.js";
import { startMedia, toggleCamera } from "./flows.js";
import { joinAudioNow, SHORTCUTS, toggleScreen } from "./MediaButtons.jsx";
import { MediaDialogs } from "./MediaDialogs.jsx";
import { SettingsDialog } from "./SettingsDialog.jsx";
import { startMonitor } from "./ConnectionIndicator.jsx";

export { Stage } from "./Stage.jsx";
export { MediaButtons } from "./MediaButtons.jsx";
export { ConnectionIndicator } from "./ConnectionIndicator.jsx";
export { layoutName } from "./layouts.js";
export { cameraUsers, muteUser, muteAll, ejectCamera } from "./media.js";

register(words);
registerOverlay(MediaDialogs);
registerOverlay(SettingsDialog);

/** Everything off: leaving the meeting (the top bar's leave), or it ended. */
export function leaveMedia() {
  media.leaveAll();
}

intercept(media.handle);

let welcomed = false;
let wasPresenter = false;
on("welcome", (m) => {
  wasPresenter = Boolean(m.you?.presenter);
  const first = !welcomed;
  welcomed = true;
  if (first) startLayout(m);
  if (media.welcome(m)) {
    startMonitor();
    startMedia();
  }
});
on("user.updated", (m) => {
  if (m.user.id !== me.value?.id) return;
  media.applyMute();
  if (wasPresenter && !m.user.presenter) media.presenterLost();
  wasPresenter = Boolean(m.user.presenter);
});
on("layout.pushed", layoutPushed);
for (const type of ["meeting.ended", "removed", "guest.denied"]) on(type, () => media.leaveAll());

// Only the feeds on screen are received.
effect(() => media.setWanted(wantedFeeds.value));

const key = (label) => label.toLowerCase().replace(/ /g, "");
bind(key(SHORTCUTS.mute), "scMute", () => media.toggleMute());
bind(key(SHORTCUTS.joinAudio), "scJoinAudio", () => joinAudioNow());
bind(key(SHORTCUTS.leaveAudio), "scLeaveAudio", () => {
  if (media.audioMode.value) media.leaveAudio();
});
bind(key(SHORTCUTS.camera), "scCamera", () => {
  const on = media.published.value.has("camera");
  if (on || media.canShareCamera()) toggleCamera(!on);
});
bind(key(SHORTCUTS.screen), "scScreen", () => toggleScreen());

// For people diagnosing a call, and the browser tests: the engine's state and stats().
window.salaMedia = media;
