// The frame's keyboard shortcuts, after BBB's (Alt+U user list, Alt+P public chat, Alt+O
// options, Alt+A actions): with Shift too, because Alt+letter alone types characters on some
// keyboard layouts and opens the browser's menus in Firefox.
import { bind } from "../core/shortcuts.js";
import { navOpen, panels, togglePanel } from "./layout.js";

bind("alt+shift+u", "scToggleUsers", () => (navOpen.value = !navOpen.value));
bind("alt+shift+p", "scToggleChat", () => togglePanel("chat"));
bind("alt+shift+o", "scSettings", () => (panels.settings.value = true));
bind("alt+shift+a", "scActions", () => document.getElementById("actions-menu")?.click());
bind("alt+shift+k", "scShortcuts", () => (panels.shortcuts.value = true));
