// The demo page's language: the visitor's choice in this browser, else the browser's own
// languages (pt-BR, en-US or es-ES). The choice also goes into the links the page makes, so the
// room opens in it.
import { LOCALES, locale, pick } from "../core/i18n.js";
import { recall, remember } from "../core/storage.js";

const KEY = "sala-locale";
export const NAMES = { "pt-BR": "Português (Brasil)", "en-US": "English (US)", "es-ES": "Español (España)" };

export function startLanguage() {
  // Without storage (refused in private modes, by policies) the browser's languages decide.
  const saved = recall(KEY);
  choose(LOCALES.includes(saved) ? saved : pick(null, navigator.languages), false);
}

export function choose(name, remember = true) {
  locale.value = name;
  document.documentElement.lang = name;
  if (!remember) return;
  remember(KEY, name);
}
