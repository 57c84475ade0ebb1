// One emoji drawn with Twemoji's SVG (copied by scripts/build-client from client/emoji-set.txt),
// so every platform shows the same picture; the character itself is the alt text, so copying,
// screen readers and a missing file all still give the emoji.

/**
 * Twemoji's file name for a character: its code points in lowercase hex joined by "-", without
 * the variation selector U+FE0F unless the sequence is joined with U+200D (ZWJ), which is how
 * the files in @twemoji/svg are named ("2764" for ❤️, "1f3f3-fe0f-200d-1f308" for 🏳️‍🌈).
 */
export function emojiFile(char) {
  const points = [...char].map((c) => c.codePointAt(0).toString(16));
  const kept = points.includes("200d") ? points : points.filter((p) => p !== "fe0f");
  return kept.join("-");
}

export function emojiUrl(char) {
  return `/room/static/app/emoji/${emojiFile(char)}.svg`;
}

export function Emoji({ char, size = 20, label, class: extra = "" }) {
  return (
    <img
      class={`emoji ${extra}`}
      src={emojiUrl(char)}
      alt={label ?? char}
      width={size}
      height={size}
      draggable={false}
      decoding="async"
    />
  );
}
