// The room's languages: pt-BR, en-US and es-ES. Words live beside the features that use them;
// each feature calls register() with its table, and t() reads the current locale signal, so every
// component re-renders in the new language when userdata-bbb_override_default_locale arrives.
import { signal } from "@preact/signals";
import core from "../i18n/core.js";
import frame from "../i18n/frame.js";

export const LOCALES = ["en-US", "pt-BR", "es-ES"];
const tables = { "en-US": {}, "pt-BR": {}, "es-ES": {} };
export const locale = signal("en-US");

export function register(words) {
  for (const name of LOCALES) Object.assign(tables[name], words[name] || {});
}
register(core);
register(frame);

export function pick(explicit, languages) {
  const wanted = [explicit, ...(languages || [])].filter(Boolean).map((l) => String(l).toLowerCase());
  for (const lang of wanted) {
    if (lang.startsWith("pt")) return "pt-BR";
    if (lang.startsWith("en")) return "en-US";
    if (lang.startsWith("es")) return "es-ES";
  }
  return "en-US";
}

export function setLocale(explicit) {
  locale.value = pick(explicit, navigator.languages);
  document.documentElement.lang = locale.value;
}

export function t(key, vars = {}) {
  const table = tables[locale.value] || tables["en-US"];
  return String(table[key] ?? tables["en-US"][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}
