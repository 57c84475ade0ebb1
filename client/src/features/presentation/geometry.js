// Pure geometry of the whiteboard: pen strokes smoothed with perfect-freehand, which shape the
// eraser or the select tool touches, and shapes moved and resized. Shapes are in fractions of the slide; distances are measured in pixels of
// the slide as shown (box {width, height}), so a wide slide erases as a square one does.
import { getStrokePoints } from "perfect-freehand";
import { noteBox, strokePixels, textSize } from "../../../../sala/room/static/shapes.js";

const MAX_POINTS = 2000; // the server's limit per shape
const round = (v) => Math.round(v * 10000) / 10000;

/**
 * Raw pointer positions (pixels) to the points of a pen shape (fractions): perfect-freehand's
 * streamlining takes the jitter out, then points closer than a pixel are dropped.
 */
export function smoothStroke(raw, box, size, last = false) {
  if (raw.length < 2) return raw.map(([x, y]) => [round(x / box.width), round(y / box.height)]);
  const stroke = getStrokePoints(raw, { size, streamline: 0.45, last });
  const points = [];
  let previous = null;
  for (const { point } of stroke) {
    if (previous && Math.hypot(point[0] - previous[0], point[1] - previous[1]) < 1) continue;
    points.push([round(point[0] / box.width), round(point[1] / box.height)]);
    previous = point;
  }
  if (points.length < 2) points.push(points[0]);
  if (points.length <= MAX_POINTS) return points;
  const step = points.length / MAX_POINTS;
  return Array.from({ length: MAX_POINTS }, (_, i) => points[Math.min(points.length - 1, Math.round(i * step))]);
}

function toSegment(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length)) : 0;
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

function toPolyline(p, points) {
  if (points.length === 1) return Math.hypot(p[0] - points[0][0], p[1] - points[0][1]);
  let best = Infinity;
  for (let i = 1; i < points.length; i++) best = Math.min(best, toSegment(p, points[i - 1], points[i]));
  return best;
}

function outline(shape, box) {
  const px = shape.points.map(([x, y]) => [x * box.width, y * box.height]);
  const [a, b] = [px[0], px[px.length - 1]];
  if (shape.tool === "rect") return [a, [b[0], a[1]], b, [a[0], b[1]], a];
  if (shape.tool === "ellipse") {
    const [cx, cy, rx, ry] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, Math.abs(b[0] - a[0]) / 2, Math.abs(b[1] - a[1]) / 2];
    return Array.from({ length: 49 }, (_, i) => [cx + rx * Math.cos((i / 48) * 2 * Math.PI), cy + ry * Math.sin((i / 48) * 2 * Math.PI)]);
  }
  if (shape.tool === "line" || shape.tool === "arrow") return [a, b];
  return px;
}

/** The box a text or poll shape covers, in pixels (an estimate from its length). */
function textBox(shape, box) {
  const [x, y] = [shape.points[0][0] * box.width, shape.points[0][1] * box.height];
  if (shape.tool === "poll") {
    const [[x0, y0], [x1, y1]] = shape.points;
    return [x0 * box.width, y0 * box.height, x1 * box.width, y1 * box.height];
  }
  const size = textSize(shape) * box.height;
  const lines = String(shape.text || "").split("\n");
  const longest = Math.max(1, ...lines.map((l) => l.length));
  return [x, y - size, x + longest * size * 0.6, y + (lines.length - 1) * size * 1.2 + size * 0.3];
}

/** Whether the point p (pixels) is within reach of the shape. */
export function touches(shape, p, box, reach = 8) {
  if (shape.tool === "text" || shape.tool === "poll" || shape.tool === "note") {
    const [x0, y0, x1, y1] = shape.tool === "note" ? noteBox(shape).map((v, i) => v * (i % 2 ? box.height : box.width)) : textBox(shape, box);
    return p[0] >= x0 - reach && p[0] <= x1 + reach && p[1] >= y0 - reach && p[1] <= y1 + reach;
  }
  return toPolyline(p, outline(shape, box)) <= reach + strokePixels(shape.width || 0.004) / 2;
}

/** The topmost shape under p, among those the filter allows. */
export function shapeAt(shapes, p, box, allowed = () => true) {
  for (let i = shapes.length - 1; i >= 0; i--) {
    if (allowed(shapes[i]) && touches(shapes[i], p, box)) return shapes[i];
  }
  return null;
}

// ---------------------------------------------------------------- selecting and changing --
/** The box a shape covers, [x0, y0, x1, y1] in fractions of the slide. */
export function bounds(shape, box) {
  if (shape.tool === "note") return noteBox(shape);
  if (shape.tool === "text" || shape.tool === "poll") {
    const [x0, y0, x1, y1] = textBox(shape, box);
    return [x0 / box.width, y0 / box.height, x1 / box.width, y1 / box.height];
  }
  const xs = shape.points.map((p) => p[0]);
  const ys = shape.points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const CORNERS = ["nw", "ne", "se", "sw"];
const corner = ([x0, y0, x1, y1], name) => [name.includes("w") ? x0 : x1, name.includes("n") ? y0 : y1];
const OPPOSITE = { nw: "se", ne: "sw", se: "nw", sw: "ne" };

/** The grips that resize a shape: a line's or arrow's two ends, the others' corners (text none). */
export function handles(shape, box) {
  if (shape.tool === "line" || shape.tool === "arrow") return shape.points.map((at, i) => ({ id: i, at }));
  if (shape.tool === "text" || shape.tool === "poll") return [];
  const b = bounds(shape, box);
  return CORNERS.map((id) => ({ id, at: corner(b, id) }));
}

const LIMIT = [-0.5, 1.5]; // the server's range for a point
const clampPoint = ([x, y]) => [x, y].map((v) => round(Math.min(LIMIT[1], Math.max(LIMIT[0], v))));

/** The shape moved by (dx, dy), fractions; it does not leave the slide unless it was already out. */
export function moved(shape, dx, dy, box) {
  const [x0, y0, x1, y1] = bounds(shape, box);
  const fx = Math.min(Math.max(0, 1 - x1), Math.max(Math.min(0, -x0), dx));
  const fy = Math.min(Math.max(0, 1 - y1), Math.max(Math.min(0, -y0), dy));
  return { ...shape, points: shape.points.map(([x, y]) => clampPoint([x + fx, y + fy])) };
}

/** The shape with its grip `handle` dragged to `to` (fractions); the opposite corner stays. */
export function resized(shape, handle, to, box) {
  if (typeof handle === "number") {
    return { ...shape, points: shape.points.map((p, i) => (i === handle ? clampPoint(to) : p)) };
  }
  const b = bounds(shape, box);
  const fixed = corner(b, OPPOSITE[handle]);
  const from = corner(b, handle);
  const target = clampPoint(to);
  if (shape.tool === "note") {
    const [a, c] = [fixed, target];
    return { ...shape, points: [[Math.min(a[0], c[0]), Math.min(a[1], c[1])], [Math.max(a[0], c[0]), Math.max(a[1], c[1])]] };
  }
  if (shape.tool === "rect" || shape.tool === "ellipse") return { ...shape, points: [fixed, target] };
  // A stroke is scaled about the fixed corner.
  const sx = from[0] === fixed[0] ? 1 : (target[0] - fixed[0]) / (from[0] - fixed[0]);
  const sy = from[1] === fixed[1] ? 1 : (target[1] - fixed[1]) / (from[1] - fixed[1]);
  return { ...shape, points: shape.points.map(([x, y]) => clampPoint([fixed[0] + (x - fixed[0]) * sx, fixed[1] + (y - fixed[1]) * sy])) };
}
