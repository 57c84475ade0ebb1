// A round icon button with a tooltip and an accessible name. `pressed` makes it a toggle
// (aria-pressed); `tone` colours it (danger for leave/end, active for a live microphone).
export function IconButton({ icon: Icon, label, pressed, tone, shortcut, class: extra = "", ...rest }) {
  const tip = shortcut ? `${label} (${shortcut})` : label;
  return (
    <button
      type="button"
      class={`icon-button ${tone ? `tone-${tone}` : ""} ${extra}`}
      aria-label={label}
      aria-pressed={pressed === undefined ? undefined : String(Boolean(pressed))}
      data-tooltip={tip}
      {...rest}
    >
      <Icon size={20} aria-hidden="true" />
    </button>
  );
}
