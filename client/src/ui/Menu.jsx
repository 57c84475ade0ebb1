// A dropdown menu button (WAI-ARIA menu button pattern): arrow keys move between items,
// Escape closes and gives focus back to the button, Tab closes it. `floating` places the list
// with fixed coordinates beside the button, for menus inside scrolling lists that would clip it.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { useCloseOnOutside } from "./popover.js";

export function Menu({ label, trigger, items, align = "end", id, triggerClass = "ghost", floating = false }) {
  const [open, setOpen] = useState(false);
  const [place, setPlace] = useState(null);
  const root = useRef(null);
  const button = useRef(null);
  useLayoutEffect(() => {
    if (!open || !floating) return setPlace(null);
    const list = root.current.querySelector("[role=menu]");
    const box = button.current.getBoundingClientRect();
    const height = list.offsetHeight;
    const below = box.bottom + 4 + height <= innerHeight;
    setPlace({
      position: "fixed", bottom: "auto",
      top: `${Math.max(8, below ? box.bottom + 4 : box.top - 4 - height)}px`,
      left: `${Math.max(8, Math.min(innerWidth - list.offsetWidth - 8, align === "end" ? box.right - list.offsetWidth : box.left))}px`,
      right: "auto", margin: 0,
    });
  }, [open, floating]);
  // Focus moves in a layout effect, so that a key pressed at once (Escape) finds it moved.
  useLayoutEffect(() => {
    if (open && (!floating || place)) root.current?.querySelector("[role=menuitem]")?.focus();
  }, [open, place]);
  useCloseOnOutside(open, root, () => setOpen(false));
  const shown = items.filter(Boolean);
  const onKey = (event) => {
    const entries = [...root.current.querySelectorAll("[role=menuitem]")];
    const at = entries.indexOf(document.activeElement);
    if (event.key === "Escape" && open) {
      event.stopPropagation();
      setOpen(false);
      button.current?.focus();
    } else if (event.key === "Tab" && open) {
      setOpen(false);
    } else if ((event.key === "Home" || event.key === "End") && at >= 0) {
      event.preventDefault();
      entries[event.key === "Home" ? 0 : entries.length - 1]?.focus();
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
        <ul class={`menu-list align-${align}`} role="menu" aria-label={label} style={place || (floating ? { visibility: "hidden" } : undefined)}>
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
