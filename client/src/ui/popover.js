// A button's popover of choices (the emoji pickers): it opens with the focus on a choice and
// closes on a pointer outside, on Tab, or on Escape (the focus back on the button); arrow keys,
// Home and End move between the choices, and go no further than the popover.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

/** While `open`, a pointer pressed outside `root` calls close (every menu and popover). */
export function useCloseOnOutside(open, root, close) {
  useEffect(() => {
    if (!open) return undefined;
    const outside = (event) => { if (!root.current?.contains(event.target)) close(); };
    addEventListener("pointerdown", outside);
    return () => removeEventListener("pointerdown", outside);
  }, [open]);
}

/** Choices in a row: every arrow steps along it, wrapping round at the ends. */
export function inRow(key, at, count) {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[key];
  return step === undefined ? null : (at + step + count) % count;
}

/** Choices in a grid of `columns`: up and down go a row, and the ends stop them. */
export function inGrid(columns) {
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
  return (key, at, count) => (key in moves ? Math.min(count - 1, Math.max(0, at + moves[key])) : null);
}

/**
 * choices: the selector of the choices' buttons; first: of the one focused on opening
 * (the first choice when absent or nothing matches); move(key, at, count): the index an arrow
 * key goes to, or null; ready: false while the popover is being placed (nothing focused yet).
 * Returns { open, setOpen, root, trigger, onKeyDown }: root and onKeyDown go on the element
 * holding the button (ref trigger) and the popover.
 */
export function usePopover({ choices, first, move, ready = true }) {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  const trigger = useRef(null);
  // A layout effect: a key pressed at once (Escape) must find the focus already moved.
  useLayoutEffect(() => {
    if (!open || !ready) return undefined;
    const chosen = (first && root.current.querySelector(first)) || root.current.querySelector(choices);
    chosen?.focus();
    return undefined;
  }, [open, ready]);
  useCloseOnOutside(open, root, () => setOpen(false));
  const onKeyDown = (event) => {
    if (!open) return;
    const buttons = [...root.current.querySelectorAll(choices)];
    const at = buttons.indexOf(document.activeElement);
    const next = at < 0 ? null
      : event.key === "Home" ? 0
      : event.key === "End" ? buttons.length - 1
      : move(event.key, at, buttons.length);
    if (event.key === "Escape") {
      event.stopPropagation();
      setOpen(false);
      trigger.current?.focus();
    } else if (event.key === "Tab") {
      setOpen(false);
    } else if (next !== null) {
      event.preventDefault();
      event.stopPropagation();
      buttons[next].focus();
    }
  };
  return { open, setOpen, root, trigger, onKeyDown };
}
