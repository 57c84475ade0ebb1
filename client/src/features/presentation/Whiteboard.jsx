// The annotations over the slide: an SVG in slide fractions (viewBox 0 0 1 1) drawn by the
// shared shapes.js, and, for whoever may draw, the pointer handling of the chosen tool: a pen
// stroke, a line, rectangle or ellipse dragged out, text typed in place, the eraser swept
// across shapes, and the presenter moving a zoomed view.
import { signal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../../core/i18n.js";
import { isPresenter, me } from "../../core/store.js";
import { shapeElement, strokePixels, textSize, TEXT_FONT } from "../../../../sala/room/static/shapes.js";
import { answerText } from "../polls/index.jsx";
import { shapeAt, smoothStroke } from "./geometry.js";
import { canDraw, pageShapes, sendView, view } from "./state.js";
import { addShape, color, eraseShape, newShapeId, tool, width, widthFor } from "./tools.js";

/** Shapes sent but not yet confirmed by the server: shown meanwhile so drawing feels instant. */
const pending = signal([]);
/** The text being typed on the slide: {x, y} in fractions, or null. */
export const editing = signal(null);

function confirmLater(shape) {
  pending.value = [...pending.value, shape];
  // A refused shape (the page full, a lock) must not stay on screen.
  setTimeout(() => (pending.value = pending.value.filter((s) => s !== shape)), 5000);
}

function send(shape) {
  confirmLater(shape);
  addShape(shape);
}

function TextEditor({ box }) {
  const spot = editing.value;
  const ref = useRef(null);
  useLayoutEffect(() => ref.current?.focus(), [spot]);
  if (!spot) return null;
  const size = textSize({ width: width.value });
  const commit = () => {
    const text = ref.current?.value.replace(/\s+$/, "") || "";
    editing.value = null;
    if (text) send({ id: newShapeId(), tool: "text", points: [[spot.x, spot.y]], color: color.value, width: width.value, text: text.slice(0, 500) });
  };
  const px = size * box.height;
  return (
    <textarea
      ref={ref}
      id="whiteboard-text"
      class="whiteboard-text"
      rows={1}
      maxLength={500}
      aria-label={t("wbTextLabel")}
      placeholder={t("wbTextPlaceholder")}
      style={{
        left: `${spot.x * 100}%`,
        top: `${spot.y * box.height - px * 0.95}px`,
        fontSize: `${px}px`,
        fontFamily: TEXT_FONT,
        color: color.value,
      }}
      onInput={(e) => {
        e.currentTarget.style.height = "auto";
        e.currentTarget.style.height = `${e.currentTarget.scrollHeight}px`;
      }}
      onKeyDown={(e) => {
        if (e.key === "Enter" && !e.shiftKey) {
          e.preventDefault();
          commit();
        } else if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          editing.value = null;
        }
      }}
      onBlur={commit}
    />
  );
}

export function Whiteboard({ aspect, box }) {
  const svg = useRef(null);
  const gesture = useRef(null);
  const shapes = pageShapes.value;
  const waiting = pending.value.filter((p) => !shapes.some((s) => s.id === p.id));
  const active = canDraw.value;

  function redraw() {
    const root = svg.current;
    if (!root) return;
    const all = [...pageShapes.value, ...pending.value.filter((p) => !pageShapes.value.some((s) => s.id === p.id))];
    const live = gesture.current?.shape;
    if (live) all.push(live);
    root.replaceChildren(...all.map((s) => shapeElement(s, answerText, t("polls"), { aspect })));
  }
  useEffect(redraw, [shapes, waiting.length, aspect]);

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

  function onPointerDown(event) {
    if (!active || event.button > 0) return;
    if (editing.value) return; // the text box's blur commits it first
    const rect = frame();
    const p = pixelOf(event, rect);
    const kind = tool.value;
    event.preventDefault();
    if (kind === "text") {
      const [x, y] = fractionOf(p, rect);
      editing.value = { x, y };
      return;
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
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    if (g.kind === "pen" || g.kind === "highlighter") {
      for (const e of events.length ? events : [event]) g.raw.push(pixelOf(e, g.rect));
      g.shape = { ...g.shape, points: smoothStroke(g.raw, g.rect, strokePixels(g.shape.width)) };
    } else {
      g.shape = { ...g.shape, points: [g.shape.points[0], fractionOf(pixelOf(event, g.rect), g.rect)] };
    }
    redraw();
  }

  function onPointerUp() {
    const g = gesture.current;
    gesture.current = null;
    if (!g) return;
    if (g.kind === "pan") return sendView(view.value);
    if (g.kind === "eraser") return;
    let shape = g.shape;
    const freehand = g.kind === "pen" || g.kind === "highlighter";
    if (freehand) shape = { ...shape, points: smoothStroke(g.raw, g.rect, strokePixels(shape.width), true) };
    const [a, b] = [shape.points[0], shape.points[shape.points.length - 1]];
    const tiny = !freehand && Math.abs(a[0] - b[0]) * g.rect.width < 2 && Math.abs(a[1] - b[1]) * g.rect.height < 2;
    if (!tiny) send(shape);
    redraw();
  }

  return (
    <>
      <svg
        ref={svg}
        id="annotations"
        class={`annotations ${active ? `drawing tool-${tool.value}` : ""}`}
        viewBox="0 0 1 1"
        preserveAspectRatio="none"
        aria-hidden="true"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      />
      {active && <TextEditor box={box} />}
    </>
  );
}
