// The light/dark switch of a page's top bar (the room's and the demo page's): a pressed button
// while dark, showing what a press brings.
import { Moon, Sun } from "lucide-preact";
import { dark, applyThemeChoice } from "../core/theme.js";

export function ThemeToggle({ label }) {
  return (
    <button
      id="theme"
      type="button"
      class="ghost icon-only"
      aria-label={label}
      aria-pressed={String(dark.value)}
      data-tooltip={label}
      onClick={() => applyThemeChoice(!dark.value)}
    >
      {dark.value ? <Sun size={20} aria-hidden="true" /> : <Moon size={20} aria-hidden="true" />}
    </button>
  );
}
