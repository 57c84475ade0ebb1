// The annotations over the slide: an SVG in slide fractions (viewBox 0 0 1 1) drawn by the
// shared shapes.js, and, for whoever may draw, the pointer handling of the chosen tool: a pen
// stroke, a line, arrow, rectangle or ellipse dragged out, text and sticky notes typed in place,
// the eraser swept across shapes, the select tool (move, resize, delete, retype) and, for the
// presenter, moving a zoomed view. Whoever may draw also shows their pointer to the others.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { t } from "../../core/i18n.js";
import { announce, isPresenter, me, on } from "../../core/store.js";
import { shapeElement, strokePixels, SVG } from "../../../../sala/room/static/shapes.js";
import { answerText } from "../polls/index.jsx";
import { bounds, handles, moved, resized, shapeAt, smoothStroke } from "./geometry.js";
import { ownPointer, pointAt, pointAway } from "./pointers.js";
import { canDraw, pageShapes, sendView, view } from "./state.js";
import { editing, TextEditor } from "./TextEditor.jsx";
import { addShape, color, eraseShape, newShapeId, tool, TOOLS, updateShape, width, widthFor } from "./tools.js";

const CONFIRM_MS = 5000;
/** Shapes sent but not yet confirmed by the server: shown meanwhile so drawing feels instant. */
const pending = signal([]);
/** Shapes changed here (moved, resized, retyped) and not yet confirmed: id → shape. */
const changed = signal(new Map());
/** The id of the shape the select tool holds, or null. */
export const selected = signal(null);

function showAdded(shape) {
  pending.value = [...pending.value, shape];
  // A refused shape (the page full, a lock) must not stay on screen.
  setTimeout(() => (pending.value = pending.value.filter((s) => s !== shape)), CONFIRM_MS);
}

function forgetChange(id, only) {
  if (!changed.value.has(id) || (only && changed.value.get(id) !== only)) return;
  const next = new Map(changed.value);
  next.delete(id);
  changed.value = next;
}

function showChanged(shape) {
  changed.value = new Map(changed.value).set(shape.id, shape);
  setTimeout(() => forgetChange(shape.id, shape), CONFIRM_MS);
}

const same = (a, b) => a.text === b.text && a.color === b.color && JSON.stringify(a.points) === JSON.stringify(b.points);
on("draw.updated", (m) => {
  const mine = changed.value.get(m.shape.id);
  if (mine && same(mine, m.shape)) forgetChange(m.shape.id);
});
on("draw.removed", (m) => {
  if (m.ids.includes(selected.value)) selected.value = null;
});
on("presentation.page", () => (selected.value = null));

/** The page's shapes as this page shows them: changes and new shapes not yet confirmed included. */
function visible() {
  const shapes = pageShapes.value.map((s) => changed.value.get(s.id) || s);
  return [...shapes, ...pending.value.filter((p) => !shapes.some((s) => s.id === p.id))];
}

/** Whom the select tool may change: the presenter any (poll results excepted), others their own. */
const mayChange = (s) => s.tool !== "poll" && Boolean(s.author) && (isPresenter.value || s.author === me.value?.id);
const toolName = (s) => t(TOOLS.find((x) => x.id === s.tool)?.label || "toolSelect");

function choose(shape) {
  selected.value = shape?.id || null;
  if (shape) announce(t("wbSelected", { shape: toolName(shape) }));
}

/** The slide's SVG as last drawn, so that keys know its size in pixels. */
let board = null;

const GRIP_PX = 10;

function selectionElement(shape, rect) {
  const g = document.createElementNS(SVG, "g");
  g.classList.add("wb-selection");
  const box = (x, y, w, h, cls) => {
    const el = document.createElementNS(SVG, "rect");
    Object.entries({ x, y, width: w, height: h, class: cls }).forEach(([k, v]) => el.setAttribute(k, v));
    return el;
  };
  const [x0, y0, x1, y1] = bounds(shape, rect);
  g.append(box(x0, y0, x1 - x0, y1 - y0, "wb-selection-box"));
  const [w, h] = [GRIP_PX / rect.width, GRIP_PX / rect.height];
  for (const { id, at } of handles(shape, rect)) {
    const grip = box(at[0] - w / 2, at[1] - h / 2, w, h, "wb-grip");
    grip.dataset.handle = String(id);
    g.append(grip);
  }
  return g;
}

// ------------------------------------------------------------------ the select tool's keys --
let nudged = null;
function updateSoon(shape) {
  showChanged(shape);
  clearTimeout(nudged);
  // A key held down sends once it is let go, not at every repeat.
  nudged = setTimeout(() => updateShape(shape), 300);
}

const STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/**
 * The select tool's keys on the slide: ] and [ choose the next or previous shape one may change,
 * arrows move it (Shift: further; Ctrl: resize), Delete removes it, Enter retypes a note or a
 * text, Escape lets go. True when the key was used.
 */
export function selectionKey(event) {
  if (tool.value !== "select" || !canDraw.value || !board) return false;
  const choices = visible().filter(mayChange);
  const chosen = choices.find((s) => s.id === selected.value);
  if (event.key === "]" || event.key === "[") {
    if (!choices.length) return false;
    const at = choices.indexOf(chosen);
    const by = event.key === "]" ? 1 : -1;
    choose(choices[(at + by + choices.length + (at < 0 && by < 0 ? 1 : 0)) % choices.length]);
    return true;
  }
  if (!chosen) return false;
  if (event.key === "Escape") {
    selected.value = null;
    return true;
  }
  if (event.key === "Delete" || event.key === "Backspace") {
    eraseShape(chosen.id);
    selected.value = null;
    return true;
  }
  if (event.key === "Enter" && (chosen.tool === "note" || chosen.tool === "text")) {
    editing.value = { tool: chosen.tool, shape: chosen };
    return true;
  }
  const step = STEPS[event.key];
  if (!step) return false;
  const rect = board.getBoundingClientRect();
  const [dx, dy] = step.map((v) => v * (event.shiftKey ? 0.05 : 0.01));
  if (!(event.ctrlKey || event.metaKey)) {
    updateSoon(moved(chosen, dx, dy, rect));
    return true;
  }
  const grips = handles(chosen, rect);
  const grip = grips.find((g) => g.id === "se") || grips[grips.length - 1];
  if (grip) updateSoon(resized(chosen, grip.id, [grip.at[0] + dx, grip.at[1] + dy], rect));
  return true;
}

export function Whiteboard({ aspect, box }) {
  const svg = useRef(null);
  const gesture = useRef(null);
  const lastPress = useRef(null);
  const shapes = pageShapes.value;
  const waiting = pending.value.filter((p) => !shapes.some((s) => s.id === p.id));
  const active = canDraw.value;
  const kindNow = tool.value;

  function redraw() {
    const root = svg.current;
    if (!root) return;
    board = root;
    const g = gesture.current;
    let all = visible();
    if (g?.shape) all = g.replaces ? all.map((s) => (s.id === g.shape.id ? g.shape : s)) : [...all, g.shape];
    const elements = all.map((s) => shapeElement(s, answerText, t("polls"), { aspect }));
    const chosen = tool.value === "select" && all.find((s) => s.id === selected.value);
    if (chosen) elements.push(selectionElement(chosen, root.getBoundingClientRect()));
    root.replaceChildren(...elements);
  }
  useEffect(redraw, [shapes, waiting.length, aspect, changed.value, selected.value, kindNow]);
  useEffect(() => {
    if (kindNow !== "select") selected.value = null;
  }, [kindNow]);

  const frame = () => svg.current.getBoundingClientRect();
  const pixelOf = (event, rect) => [event.clientX - rect.left, event.clientY - rect.top];
  const fractionOf = ([x, y], rect) => [Math.round((x / rect.width) * 10000) / 10000, Math.round((y / rect.height) * 10000) / 10000];
  const mine = (s) => isPresenter.value || s.author === me.value?.id;

  function erase(event, g) {
    const p = pixelOf(event, g.rect);
    const hit = shapeAt(pageShapes.value, p, g.rect, (s) => mine(s) && !g.erased.has(s.id));
    if (hit) {
      g.erased.add(hit.id);
      eraseShape(hit.id);
    }
  }

  /** The select tool pressed at p: a grip of the chosen shape, the chosen shape, another, or nothing. */
  function grab(p, rect) {
    const all = visible();
    const held = all.find((s) => s.id === selected.value && mayChange(s));
    const start = { kind: "move", rect, from: fractionOf(p, rect), replaces: true };
    if (held) {
      const grip = handles(held, rect).find(({ at }) => Math.hypot(at[0] * rect.width - p[0], at[1] * rect.height - p[1]) <= GRIP_PX);
      if (grip) return { ...start, kind: "resize", handle: grip.id, original: held, shape: held };
      const [x0, y0, x1, y1] = bounds(held, rect);
      const [x, y] = [p[0] / rect.width, p[1] / rect.height];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) return { ...start, original: held, shape: held };
    }
    const hit = shapeAt(all, p, rect, mayChange);
    choose(hit);
    return hit ? { ...start, original: hit, shape: hit } : null;
  }

  function onPointerDown(event) {
    if (!active || event.button > 0) return;
    if (editing.value) return; // the text box's blur commits it first
    const rect = frame();
    const p = pixelOf(event, rect);
    const kind = tool.value;
    if (kind === "pointer") return;
    event.preventDefault();
    svg.current.parentElement.closest("[tabindex]")?.focus({ preventScroll: true }); // keys go to the slide
    if (kind === "text" || kind === "note") {
      const [x, y] = fractionOf(p, rect);
      editing.value = { tool: kind, x, y };
      return;
    }
    if (kind === "select") {
      // A second press at once on a note or a text retypes it (a double click).
      const [previous, now] = [lastPress.current, { at: p, time: event.timeStamp }];
      lastPress.current = now;
      if (previous && now.time - previous.time < 450 && Math.hypot(p[0] - previous.at[0], p[1] - previous.at[1]) < 6) {
        const hit = shapeAt(visible(), p, rect, (s) => mayChange(s) && (s.tool === "note" || s.tool === "text"));
        if (hit) {
          lastPress.current = null;
          editing.value = { tool: hit.tool, shape: hit };
          return;
        }
      }
      gesture.current = grab(p, rect);
      if (gesture.current) svg.current.setPointerCapture(event.pointerId);
      return redraw();
    }
    svg.current.setPointerCapture(event.pointerId);
    if (kind === "pan") {
      gesture.current = { kind, from: [event.clientX, event.clientY], view: { ...view.value }, rect: svg.current.parentElement.parentElement.getBoundingClientRect() };
      return;
    }
    if (kind === "eraser") {
      gesture.current = { kind, rect, erased: new Set() };
      erase(event, gesture.current);
      return;
    }
    const point = fractionOf(p, rect);
    gesture.current = {
      kind, rect, raw: [p],
      shape: { id: newShapeId(), tool: kind, points: [point, point], color: color.value, width: widthFor(kind, width.value) },
    };
    redraw();
  }

  function onPointerMove(event) {
    if (active) {
      const rect = gesture.current?.rect || frame();
      const [x, y] = [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
      pointAt(x, y);
      if (tool.value === "pointer") ownPointer.value = { x, y };
    }
    const g = gesture.current;
    if (!g) return;
    if (g.kind === "pan") {
      const v = g.view;
      const dx = ((event.clientX - g.from[0]) / g.rect.width) * v.w;
      const dy = ((event.clientY - g.from[1]) / g.rect.height) * v.h;
      view.value = { ...v, x: Math.min(Math.max(0, v.x - dx), 1 - v.w), y: Math.min(Math.max(0, v.y - dy), 1 - v.h) };
      return;
    }
    if (g.kind === "eraser") return erase(event, g);
    const at = fractionOf(pixelOf(event, g.rect), g.rect);
    if (g.kind === "move") {
      g.shape = moved(g.original, at[0] - g.from[0], at[1] - g.from[1], g.rect);
    } else if (g.kind === "resize") {
      g.shape = resized(g.original, g.handle, at, g.rect);
    } else if (g.kind === "pen" || g.kind === "highlighter") {
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of events.length ? events : [event]) g.raw.push(pixelOf(e, g.rect));
      g.shape = { ...g.shape, points: smoothStroke(g.raw, g.rect, strokePixels(g.shape.width)) };
    } else {
      g.shape = { ...g.shape, points: [g.shape.points[0], at] };
    }
    redraw();
  }

  function onPointerUp() {
    const g = gesture.current;
    gesture.current = null;
    if (!g) return;
    if (g.kind === "pan") return sendView(view.value);
    if (g.kind === "eraser") return;
    if (g.kind === "move" || g.kind === "resize") {
      if (g.shape !== g.original && !same(g.shape, g.original)) {
        showChanged(g.shape);
        updateShape(g.shape);
      }
      return redraw();
    }
    let shape = g.shape;
    const freehand = g.kind === "pen" || g.kind === "highlighter";
    if (freehand) shape = { ...shape, points: smoothStroke(g.raw, g.rect, strokePixels(shape.width), true) };
    const [a, b] = [shape.points[0], shape.points[shape.points.length - 1]];
    const tiny = !freehand && Math.abs(a[0] - b[0]) * g.rect.width < 2 && Math.abs(a[1] - b[1]) * g.rect.height < 2;
    if (!tiny) {
      showAdded(shape);
      addShape(shape);
    }
    redraw();
  }

  function onPointerLeave() {
    pointAway();
    ownPointer.value = null;
  }

  const spot = editing.value;
  return (
    <>
      <svg
        ref={svg}
        id="annotations"
        class={`annotations ${active ? `drawing tool-${kindNow}` : ""}`}
        viewBox="0 0 1 1"
        preserveAspectRatio="none"
        aria-hidden="true"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={onPointerLeave}
      />
      {active && (
        <TextEditor
          key={spot ? `${spot.shape?.id || ""}${spot.x},${spot.y}` : "none"}
          box={box}
          onSent={(shape, isNew) => (isNew ? showAdded(shape) : showChanged(shape))}
        />
      )}
    </>
  );
}
