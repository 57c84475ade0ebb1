// The whiteboard's tools as the server accepts them (sala/room/protocol.py Shape): pen,
// highlighter, line, arrow, rectangle, ellipse and text shapes, the eraser (one shape, one's last, or the page) and, for
// the presenter, moving the zoomed view. Colours and widths are the shape's own fields.
import { computed, signal } from "@preact/signals";
import { ArrowUpRight, Circle, Eraser, Hand, Highlighter, Minus, Pen, Square, Type } from "lucide-preact";
import { send } from "../../core/connection.js";
import { isPresenter } from "../../core/store.js";
import { currentDoc } from "./state.js";

export const TOOLS = [
  { id: "pen", icon: Pen, label: "toolPen", key: "p" },
  { id: "highlighter", icon: Highlighter, label: "toolHighlighter", key: "m" },
  { id: "line", icon: Minus, label: "toolLine", key: "l" },
  { id: "arrow", icon: ArrowUpRight, label: "toolArrow", key: "a" },
  { id: "rect", icon: Square, label: "toolRect", key: "r" },
  { id: "ellipse", icon: Circle, label: "toolEllipse", key: "o" },
  { id: "text", icon: Type, label: "toolText", key: "t" },
  { id: "eraser", icon: Eraser, label: "toolEraser", key: "e" },
  { id: "pan", icon: Hand, label: "toolPan", key: "h", presenterOnly: true },
];

export const COLORS = [
  { value: "#e11d48", label: "colorRed" },
  { value: "#f59e0b", label: "colorOrange" },
  { value: "#16a34a", label: "colorGreen" },
  { value: "#2563eb", label: "colorBlue" },
  { value: "#7c3aed", label: "colorPurple" },
  { value: "#111827", label: "colorBlack" },
  { value: "#ffffff", label: "colorWhite" },
];

/** Stroke widths in fractions of the slide (the server takes up to 0.05); text sizes follow. */
export const WIDTHS = [
  { value: 0.002, label: "widthThin" },
  { value: 0.004, label: "widthMedium" },
  { value: 0.008, label: "widthThick" },
  { value: 0.016, label: "widthHeavy" },
];

export const tool = signal("pen");
export const color = signal(COLORS[0].value);
export const width = signal(WIDTHS[1].value);

export const availableTools = computed(() => TOOLS.filter((x) => !x.presenterOnly || isPresenter.value));

export function chooseTool(id) {
  if (availableTools.value.some((x) => x.id === id)) tool.value = id;
}

function where() {
  const doc = currentDoc.value;
  return doc ? { presentation: doc.id, page: doc.page } : null;
}

let made = 0;
export function newShapeId() {
  made += 1;
  return `s${Date.now().toString(36)}${made.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** A highlighter draws wider than a pen of the same chosen width (the server takes up to 0.05). */
export function widthFor(kind, chosen) {
  return kind === "highlighter" ? Math.min(0.05, Math.max(0.012, chosen * 4)) : chosen;
}

export function addShape(shape) {
  const target = where();
  if (target) send({ type: "draw.add", ...target, shape });
}

export function eraseShape(id) {
  const target = where();
  if (target) send({ type: "draw.erase", ...target, shape: id });
}

export function undo() {
  const target = where();
  if (target) send({ type: "draw.erase", ...target, undo: true });
}

export function clearPage() {
  const target = where();
  if (target) send({ type: "draw.erase", ...target, clear: true });
}
