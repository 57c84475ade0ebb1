// What the page shows where: the side panel that is open, the dialogs, the narrow (phone) mode.
// Features open panels and dialogs through these signals rather than reaching into each other.
import { signal } from "@preact/signals";

/** The side panel beside the user list: "chat", "notes", "polls", … or null (phones start with
 * none open, so that the stage shows). */
export const sidePanel = signal(matchMedia("(max-width: 720px)").matches ? null : "chat");
/** Dialogs opened from more than one place. */
export const panels = { settings: signal(false), shortcuts: signal(false) };
/** Whether the left navigation (user list) is shown; phones hide it until asked. */
export const navOpen = signal(!matchMedia("(max-width: 720px)").matches);
export const narrow = signal(matchMedia("(max-width: 720px)").matches);
matchMedia("(max-width: 720px)").addEventListener("change", (event) => {
  narrow.value = event.matches;
  navOpen.value = !event.matches;
});

export function togglePanel(id) {
  sidePanel.value = sidePanel.value === id ? null : id;
  if (narrow.value && sidePanel.value) navOpen.value = false;
}

/** The presentation minimised to a button (BBB's "hide presentation"); layouts start it so. */
export const presentationMinimized = signal(false);
