// Dates on the landing page, in its language.
import { locale } from "../core/i18n.js";

export function when(ms) {
  return new Intl.DateTimeFormat(locale.value, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
}
