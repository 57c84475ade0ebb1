// Keyboard shortcuts, BBB's set: Alt+Shift plus a letter (Alt+M mutes, as in BBB's client).
// Features bind theirs with bind(); the help dialog lists every binding with its label.
import { signal } from "@preact/signals";

export const bindings = signal([]);

/** combo like "alt+shift+h"; run gets the KeyboardEvent. Returns an unbind function. */
export function bind(combo, labelKey, run) {
  const entry = { combo: combo.toLowerCase(), labelKey, run };
  bindings.value = [...bindings.value, entry];
  return () => (bindings.value = bindings.value.filter((b) => b !== entry));
}

function comboOf(event) {
  const parts = [];
  if (event.ctrlKey) parts.push("ctrl");
  if (event.altKey) parts.push("alt");
  if (event.shiftKey) parts.push("shift");
  // event.code is layout-independent (Alt+letter gives odd characters on macOS).
  const key = event.code?.startsWith("Key") ? event.code.slice(3).toLowerCase() : event.key.toLowerCase();
  parts.push(key);
  return parts.join("+");
}

addEventListener("keydown", (event) => {
  if (!event.altKey && !event.ctrlKey) return;
  const combo = comboOf(event);
  const hit = bindings.value.find((b) => b.combo === combo);
  if (!hit) return;
  event.preventDefault();
  hit.run(event);
});
