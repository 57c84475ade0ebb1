// The page's language, chosen from the three the room speaks; each name in its own language.
import { Languages } from "lucide-preact";
import { LOCALES, locale, t } from "../core/i18n.js";
import { NAMES, choose } from "./language.js";

export function LanguagePicker() {
  return (
    <label class="demo-language">
      <Languages size={18} aria-hidden="true" />
      <span class="visually-hidden">{t("demo.language")}</span>
      <select id="language" value={locale.value} onChange={(event) => choose(event.currentTarget.value)}>
        {LOCALES.map((name) => (
          <option key={name} value={name} lang={name}>{NAMES[name]}</option>
        ))}
      </select>
    </label>
  );
}
