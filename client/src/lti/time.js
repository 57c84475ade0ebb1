// Dates on the landing page, in its language, as people say them: "Today, 14:30" for today,
// without the year in this year, in full otherwise.
import { locale } from "../core/i18n.js";

function sameDay(a, b) {
  return a.toDateString() === b.toDateString();
}

function clock(date) {
  return new Intl.DateTimeFormat(locale.value, { timeStyle: "short" }).format(date);
}

export function when(ms) {
  const date = new Date(ms);
  const now = new Date();
  if (sameDay(date, now)) {
    const today = new Intl.RelativeTimeFormat(locale.value, { numeric: "auto" }).format(0, "day");
    return `${today.charAt(0).toLocaleUpperCase(locale.value)}${today.slice(1)}, ${clock(date)}`;
  }
  const options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(locale.value, options).format(date);
}

// Since when a meeting runs: the time alone when that is today.
export function since(ms) {
  return sameDay(new Date(ms), new Date()) ? clock(new Date(ms)) : when(ms);
}
