// A person's avatar without a picture: two initials on a colour made from their id. Pure
// functions, without the room's store, so pages outside the room (the LTI landing) draw the same
// avatars.

/** Two letters for an avatar without a picture. */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = [...words[0]][0] || "";
  const last = words.length > 1 ? [...words[words.length - 1]][0] || "" : [...words[0]][1] || "";
  return (first + last).toUpperCase();
}

/** A hue from the id, so someone keeps their colour on every page and after a reload. */
export function hueOf(id) {
  let hash = 0;
  for (const c of id) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** WCAG's relative luminance of an HSL colour (s, l in 0–1). */
function luminance(hue, s, l) {
  const a = s * Math.min(l, 1 - l);
  const channel = (n) => {
    const k = (n + hue / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(8) + 0.0722 * channel(4);
}

const SATURATION = 0.52;
const shades = new Map();
/** The avatar's colour for an id: its hue, darkened until white initials on it reach 4.5:1
 * (with a margin), whatever the theme, since the initials are white in both. */
export function avatarColour(id) {
  const hue = hueOf(id);
  if (!shades.has(hue)) {
    let l = 0.36;
    while (l > 0.1 && 1.05 / (luminance(hue, SATURATION, l) + 0.05) < 4.75) l -= 0.01;
    shades.set(hue, `hsl(${hue} ${SATURATION * 100}% ${Math.round(l * 100)}%)`);
  }
  return shades.get(hue);
}
