// A list that renders only the rows in view (plus a few), so a class of 500 scrolls as lightly
// as a meeting of five. Rows have one fixed height; each gets its top offset. Arrow keys, Home
// and End move between the rows' focusable controls, scrolling the target row into view first.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

const OVERSCAN = 6;

export function VirtualList({ id, items, rowHeight, renderRow, focusSelector, label, class: extra = "" }) {
  const box = useRef(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);
  const pendingFocus = useRef(null);
  useLayoutEffect(() => {
    const element = box.current;
    const observer = new ResizeObserver(() => setViewHeight(element.clientHeight));
    observer.observe(element);
    setViewHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    if (pendingFocus.current === null) return;
    const row = box.current.querySelector(`[data-index="${pendingFocus.current}"] ${focusSelector}`);
    if (row) {
      row.focus();
      pendingFocus.current = null;
    }
  });
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + viewHeight) / rowHeight) + OVERSCAN);

  const onKeyDown = (event) => {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    if (!event.target.matches(focusSelector)) return;
    const at = Number(event.target.closest("[data-index]")?.dataset.index);
    if (Number.isNaN(at)) return;
    event.preventDefault();
    // The next row with a control to focus (rows without one, like mine for a viewer, are skipped).
    const has = (i) => items[i] && items[i].focusable !== false;
    let target = event.key === "Home" ? 0 : event.key === "End" ? items.length - 1 : at + (event.key === "ArrowDown" ? 1 : -1);
    const step = event.key === "End" || event.key === "ArrowUp" ? -1 : 1;
    while (target >= 0 && target < items.length && !has(target)) target += step;
    if (target < 0 || target >= items.length) return;
    const element = box.current;
    const rowTop = target * rowHeight;
    if (rowTop < element.scrollTop) element.scrollTop = rowTop;
    else if (rowTop + rowHeight > element.scrollTop + element.clientHeight) element.scrollTop = rowTop + rowHeight - element.clientHeight;
    setScrollTop(element.scrollTop);
    pendingFocus.current = target;
    const now = element.querySelector(`[data-index="${target}"] ${focusSelector}`);
    if (now) {
      now.focus();
      pendingFocus.current = null;
    }
  };

  return (
    <div class={`virtual-scroller ${extra}`} ref={box} onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
      <ul id={id} class="virtual-list" aria-label={label} style={{ height: `${items.length * rowHeight}px` }} onKeyDown={onKeyDown}>
        {items.slice(first, last).map((item, i) => renderRow(item.value, first + i, (first + i) * rowHeight))}
      </ul>
    </div>
  );
}
