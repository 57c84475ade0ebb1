// The stage feature (owner: media, cameras, screen share, layouts, devices). STUB: to be
// replaced by the port of media.js into components.
import { signal } from "@preact/signals";
export const layoutName = signal("smart");
export function Stage() { return <section class="stage" id="stage" aria-label="stage" />; }
export function MediaButtons() { return null; }
export function ConnectionIndicator() { return null; }
export function leaveMedia() {}
// Media actions the people feature's menus use (minimal, sending what the old media.js sent);
// the stage port may replace them with its own as long as the names stay.
import { send as sendMessage } from "../../core/connection.js";
/** The ids of the users with a webcam on. */
export const cameraUsers = signal(new Set());
export function muteUser(userId, muted) { sendMessage({ type: "media.audio.mute", user: userId, muted }); }
export function muteAll() { sendMessage({ type: "media.audio.mute_all", muted: true }); }
export function ejectCamera(userId) { sendMessage({ type: "media.unpublish", kind: "camera", user: userId }); }
