// The stage feature (owner: media, cameras, screen share, layouts, devices). STUB: to be
// replaced by the port of media.js into components.
import { signal } from "@preact/signals";
export const layoutName = signal("smart");
export function Stage() { return <section class="stage" id="stage" aria-label="stage" />; }
export function MediaButtons() { return null; }
export function ConnectionIndicator() { return null; }
export function leaveMedia() {}
