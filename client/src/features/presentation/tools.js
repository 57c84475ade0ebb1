// The whiteboard's tools as the server accepts them (sala/room/protocol.py Shape): selecting
// (to move, resize or delete), the pointer (a laser dot everybody sees), pen, highlighter, line,
// arrow, rectangle, ellipse, text and sticky-note shapes, the eraser (one shape, one's last, or
// the page) and, for the presenter, moving the zoomed view. Colours and widths are the shape's
// own fields.
import { computed, signal } from "@preact/signals";
import {
  ArrowUpRight, Circle, Eraser, Hand, Highlighter, Minus, MousePointer2, Pen, Square, StickyNote, Type, Wand,
} from "lucide-preact";
import { send } from "../../core/connection.js";
import { isPresenter } from "../../core/store.js";
import { currentDoc } from "./state.js";

export const TOOLS = [
  { id: "select", icon: MousePointer2, label: "toolSelect", key: "v" },
  { id: "pointer", icon: Wand, label: "toolPointer", key: "k" },
  { id: "pen", icon: Pen, label: "toolPen", key: "p" },
  { id: "highlighter", icon: Highlighter, label: "toolHighlighter", key: "m" },
  { id: "line", icon: Minus, label: "toolLine", key: "l" },
  { id: "arrow", icon: ArrowUpRight, label: "toolArrow", key: "a" },
  { id: "rect", icon: Square, label: "toolRect", key: "r" },
  { id: "ellipse", icon: Circle, label: "toolEllipse", key: "o" },
  { id: "text", icon: Type, label: "toolText", key: "t" },
  { id: "note", icon: StickyNote, label: "toolNote", key: "n" },
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

/** The papers of sticky notes; yellow first, as notes are. */
export const NOTE_COLORS = [
  { value: "#fef08a", label: "noteYellow" },
  { value: "#fed7aa", label: "noteOrange" },
  { value: "#fbcfe8", label: "notePink" },
  { value: "#bfdbfe", label: "noteBlue" },
  { value: "#bbf7d0", label: "noteGreen" },
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
export const noteColor = signal(NOTE_COLORS[0].value);

/** The tool keys (as BBB's whiteboard has them), from the list above. */
export const TOOL_KEYS = Object.fromEntries(TOOLS.map((x) => [x.key, x.id]));

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

/** A shape moved, resized or retyped: the whole shape again, same id and tool. */
export function updateShape(shape) {
  const target = where();
  const { author: _author, ...sent } = shape;
  if (target) send({ type: "draw.update", ...target, shape: sent });
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
