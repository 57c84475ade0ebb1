// Where features plug into the frame without the frame knowing them: side panels (chat, notes,
// polls, and the breakouts, captions, Q&A or timer that later features add), entries of the
// action bar's "+" menu, and dialogs that live for the whole page.
import { signal } from "@preact/signals";

/**
 * A side panel: { id, order, icon, label: () => string, component, visible?: () => bool,
 * badge?: () => number }. It gets a button in the navigation and a place beside it.
 */
export const sidePanels = signal([]);
/** An entry of the "+" menu: { key, order, icon, label: () => string, visible: () => bool, run }. */
export const actions = signal([]);
/** Components rendered once at the root (dialogs, overlays). */
export const overlays = signal([]);

const byOrder = (a, b) => (a.order ?? 50) - (b.order ?? 50);

export function registerPanel(panel) {
  sidePanels.value = [...sidePanels.value, panel].sort(byOrder);
}

export function registerAction(action) {
  actions.value = [...actions.value, action].sort(byOrder);
}

export function registerOverlay(component) {
  overlays.value = [...overlays.value, component];
}
