// Light or dark: the user's choice per browser, else the system's. The choice sets
// data-theme on <html>, which the design tokens (styles/tokens.css) follow.
import { signal } from "@preact/signals";
import { recall, remember } from "./storage.js";

const KEY = "sala-theme";
const system = matchMedia("(prefers-color-scheme: dark)");
export const dark = signal(false);

export function applyTheme() {
  const saved = recall(KEY);
  dark.value = saved ? saved === "dark" : system.matches;
  document.documentElement.dataset.theme = dark.value ? "dark" : "light";
  system.addEventListener("change", () => {
    if (!recall(KEY)) applyThemeChoice(system.matches, false);
  });
}

export function applyThemeChoice(isDark, keep = true) {
  dark.value = isDark;
  document.documentElement.dataset.theme = isDark ? "dark" : "light";
  if (keep) remember(KEY, isDark ? "dark" : "light");
}
