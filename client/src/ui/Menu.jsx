// A dropdown menu button (WAI-ARIA menu button pattern): arrow keys move between items,
// Escape closes and gives focus back to the button.
import { useEffect, useRef, useState } from "preact/hooks";

export function Menu({ label, trigger, items, align = "end", id, triggerClass = "ghost" }) {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  const button = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const first = root.current?.querySelector("[role=menuitem]");
    first?.focus();
    const outside = (event) => { if (!root.current?.contains(event.target)) setOpen(false); };
    addEventListener("pointerdown", outside);
    return () => removeEventListener("pointerdown", outside);
  }, [open]);
  const shown = items.filter(Boolean);
  const onKey = (event) => {
    const entries = [...root.current.querySelectorAll("[role=menuitem]")];
    const at = entries.indexOf(document.activeElement);
    if (event.key === "Escape") {
      setOpen(false);
      button.current?.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      entries[(at + step + entries.length) % entries.length]?.focus();
    }
  };
  return (
    <div class="menu" ref={root} onKeyDown={onKey}>
      <button
        ref={button}
        id={id}
        type="button"
        class={triggerClass}
        aria-haspopup="menu"
        aria-expanded={String(open)}
        aria-label={label}
        data-tooltip={label}
        onClick={() => setOpen(!open)}
      >
        {trigger}
      </button>
      {open && (
        <ul class={`menu-list align-${align}`} role="menu" aria-label={label}>
          {shown.map((item) => (
            <li role="none" key={item.key || item.label}>
              <button
                type="button"
                role="menuitem"
                class={item.danger ? "danger-text" : ""}
                data-action={item.key}
                onClick={() => {
                  setOpen(false);
                  item.run();
                }}
              >
                {item.icon && <item.icon size={16} aria-hidden="true" />}
                <span>{item.label}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
