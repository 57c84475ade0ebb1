// What this browser remembers for sala (theme, language, devices, layout), read and written so
// that a refused storage never breaks a page: inside an LMS's iframe with third-party storage
// blocked (or in some private modes) merely touching localStorage throws, and a page that
// reads it at load would not start at all. Then nothing is remembered and the defaults apply.

/** The saved text under `key`, or null (nothing saved, or no storage). */
export function recall(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The saved JSON under `key`, or null (nothing saved, unreadable, or no storage). */
export function recallJson(key) {
  try {
    return JSON.parse(recall(key));
  } catch {
    return null;
  }
}

/** Remember `value` (text) under `key`; without storage it lasts for this page only. */
export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // No storage: the choice still applies to this page.
  }
}

export function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // No storage: nothing was kept.
  }
}
