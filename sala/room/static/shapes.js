// Whiteboard shapes as SVG, shared by the room and the recordings' player: shapes are data
// (tool, points in fractions of the slide, colour, width), never markup from a browser.
// The SVG's viewBox is the slide (0 0 1 1, stretched to it), so strokes keep a fixed on-screen
// width (non-scaling) and text, whose size is a fraction of the slide's height, is drawn
// unstretched when the caller says the slide's aspect ratio (width / height).
export const SVG = "http://www.w3.org/2000/svg";
export const TEXT_FONT = "Inter Variable, Inter, system-ui, Arial, sans-serif";

/** A text shape's font size in fractions of the slide's height: its width says how big. */
export function textSize(shape) {
  return Math.min(0.12, Math.max(0.02, (shape.width || 0.004) * 10));
}

/** A sticky note (protocol v2) with one point spans this fraction of each side of the slide. */
export const NOTE_SIZE = 0.15;
/** A note's text: this fraction of the slide's height, smaller when the text would overflow. */
export const NOTE_TEXT = 0.025;
export const NOTE_INK = "#1f2937";

/** A note's box [x0, y0, x1, y1] in fractions: its two corners, or one and the default size. */
export function noteBox(shape) {
  const [a, b] = [shape.points[0], shape.points[1] || [shape.points[0][0] + NOTE_SIZE, shape.points[0][1] + NOTE_SIZE]];
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

/** On-screen stroke width in pixels for a shape's width (a fraction of the slide). */
export function strokePixels(width) {
  return Math.max(1, width * 600);
}

function textElement(shape, [x, y], aspect) {
  const el = document.createElementNS(SVG, "text");
  const size = textSize(shape);
  // Counter the viewBox's stretch so glyphs keep their shape (when the aspect is known).
  el.setAttribute("transform", `translate(${x} ${y}) scale(${aspect ? 1 / aspect : 1} 1)`);
  el.setAttribute("font-size", String(size));
  el.setAttribute("font-family", TEXT_FONT);
  el.setAttribute("fill", shape.color);
  const lines = String(shape.text || "").split("\n");
  lines.forEach((line, i) => {
    const span = document.createElementNS(SVG, "tspan");
    span.setAttribute("x", "0");
    span.setAttribute("y", String(i * size * 1.2));
    span.textContent = line;
    el.append(span);
  });
  return el;
}

// A published poll's result, drawn by the server on the page: a panel with a bar per answer.
function pollElement(shape, label, title, aspect) {
  const [[x0, y0], [x1, y1]] = shape.points;
  const g = document.createElementNS(SVG, "g");
  g.classList.add("poll-board");
  const panel = document.createElementNS(SVG, "rect");
  // Attributes rather than CSS: the slide snapshot draws this SVG without the page's styles.
  Object.entries({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, rx: 0.01, fill: "#ffffff",
    "fill-opacity": 0.92, stroke: shape.color, "stroke-width": 1, "vector-effect": "non-scaling-stroke" })
    .forEach(([k, v]) => panel.setAttribute(k, v));
  g.append(panel);
  const rows = shape.result.length + 1;
  const line = (y1 - y0) / rows;
  const most = Math.max(1, ...shape.result.map((c) => c.votes));
  const write = (y, text) => {
    const el = document.createElementNS(SVG, "text");
    if (aspect) {
      el.setAttribute("transform", `translate(${x0 + 0.01} ${y}) scale(${1 / aspect} 1)`);
      el.setAttribute("font-family", TEXT_FONT);
    } else {
      el.setAttribute("x", x0 + 0.01); el.setAttribute("y", y);
    }
    el.setAttribute("font-size", String(Math.min(0.035, line * 0.6)));
    el.setAttribute("fill", shape.color);
    el.textContent = text;
    g.append(el);
  };
  write(y0 + line * 0.7, shape.text || title);
  shape.result.forEach((c, i) => {
    const top = y0 + line * (i + 1);
    const pct = shape.responders ? Math.round((100 * c.votes) / shape.responders) : 0;
    const bar = document.createElementNS(SVG, "rect");
    Object.entries({ x: x0 + (x1 - x0) * 0.45, y: top + line * 0.2, height: line * 0.6,
      width: Math.max(0.002, ((x1 - x0) * 0.5 * c.votes) / most), fill: "#2563eb" }).forEach(([k, v]) => bar.setAttribute(k, v));
    bar.classList.add("poll-bar");
    g.append(bar);
    write(top + line * 0.7, `${label(c.key)}: ${c.votes} (${pct}%)`);
  });
  return g;
}

/** "#rrggbb" made darker (factor < 1), for a note's border. */
function darker(color, factor = 0.6) {
  const n = parseInt(String(color).slice(1), 16) || 0;
  const part = (shift) => Math.round(((n >> shift) & 255) * factor).toString(16).padStart(2, "0");
  return `#${part(16)}${part(8)}${part(0)}`;
}

let measurer = null;
/** The width of a text in ems of TEXT_FONT (measured once per text on a canvas). */
function ems(text) {
  measurer ||= document.createElement("canvas").getContext("2d");
  measurer.font = `100px ${TEXT_FONT}`;
  return measurer.measureText(text).width / 100;
}

/** Words wrapped into lines no wider than `room` ems; a word wider than a line is cut. */
function wrap(text, room) {
  const lines = [];
  for (const paragraph of String(text).split("\n")) {
    let line = "";
    for (let word of paragraph.split(/ +/)) {
      while (word.length > 1 && ems(word) > room) {
        if (line) lines.push(line);
        line = "";
        let [fits, over] = [1, word.length]; // the longest head that fits, by halves
        while (over - fits > 1) {
          const mid = (fits + over) >> 1;
          if (ems(word.slice(0, mid)) > room) over = mid; else fits = mid;
        }
        lines.push(word.slice(0, fits));
        word = word.slice(fits);
      }
      const next = line ? `${line} ${word}` : word;
      if (line && ems(next) > room) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

/** A sticky note (protocol v2): paper in its colour, a thin darker border, dark text wrapped
 * inside at NOTE_TEXT of the slide's height (smaller if it would not fit). */
function noteElement(shape, aspect = 16 / 9) {
  const [x0, y0, x1, y1] = noteBox(shape);
  const g = document.createElementNS(SVG, "g");
  g.classList.add("note");
  const paper = document.createElementNS(SVG, "rect");
  Object.entries({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: shape.color, stroke: darker(shape.color),
    "stroke-width": 1, "vector-effect": "non-scaling-stroke" }).forEach(([k, v]) => paper.setAttribute(k, v));
  g.append(paper);
  // Sizes in fractions of the slide's height; the note's width in the same unit is w * aspect.
  const [w, h] = [(x1 - x0) * aspect, y1 - y0];
  let size = NOTE_TEXT;
  let lines;
  for (;;) {
    const pad = size * 0.5;
    lines = wrap(shape.text || "", Math.max(0.1, (w - 2 * pad) / size));
    if (lines.length * size * 1.25 + pad <= h || size <= NOTE_TEXT / 2.5) break;
    size *= 0.9;
  }
  const pad = size * 0.5;
  const text = document.createElementNS(SVG, "text");
  text.setAttribute("transform", `translate(${x0 + pad / aspect} ${y0 + pad}) scale(${1 / aspect} 1)`);
  text.setAttribute("font-size", String(size));
  text.setAttribute("font-family", TEXT_FONT);
  text.setAttribute("fill", NOTE_INK);
  lines.forEach((line, i) => {
    const span = document.createElementNS(SVG, "tspan");
    span.setAttribute("x", "0");
    span.setAttribute("y", String(size * (0.95 + i * 1.25)));
    span.textContent = line;
    text.append(span);
  });
  g.append(text);
  return g;
}

/** An arrow (protocol v2) from its tail to its head: the shaft and a head as one path. The head
 * is computed in the slide's proportions (16:9 when the caller does not say). */
function arrowElement([x0, y0], [x1, y1], width, aspect = 16 / 9) {
  const el = document.createElementNS(SVG, "path");
  const [dx, dy] = [(x1 - x0) * aspect, y1 - y0];
  const length = Math.hypot(dx, dy) || 1;
  const head = Math.min(length * 0.4, 0.02 + (width || 0.004) * 4);
  const [ux, uy] = [dx / length, dy / length];
  const wing = (sign) => {
    const [wx, wy] = [-ux * Math.cos(0.45) - sign * uy * Math.sin(0.45), -uy * Math.cos(0.45) + sign * ux * Math.sin(0.45)];
    return `${x1 + (wx * head) / aspect},${y1 + wy * head}`;
  };
  el.setAttribute("d", `M${x0},${y0} L${x1},${y1} M${wing(1)} L${x1},${y1} L${wing(-1)}`);
  el.setAttribute("stroke-linecap", "round");
  el.setAttribute("stroke-linejoin", "round");
  el.classList.add("arrow");
  return el;
}

/** The SVG element of a shape; options.aspect is the slide's width / height when known. */
export function shapeElement(shape, label = (key) => key, pollTitle = "", options = {}) {
  const [first, last] = [shape.points[0], shape.points[shape.points.length - 1]];
  let el;
  if (shape.tool === "poll") {
    el = pollElement(shape, label, pollTitle, options.aspect);
    el.dataset.shape = shape.id;
    return el;
  }
  if (shape.tool === "note") {
    el = noteElement(shape, options.aspect);
    el.dataset.shape = shape.id;
    return el;
  }
  if (shape.tool === "pen" || shape.tool === "highlighter") {
    el = document.createElementNS(SVG, "polyline");
    el.setAttribute("points", shape.points.map((p) => p.join(",")).join(" "));
    el.setAttribute("stroke-linecap", "round");
    el.setAttribute("stroke-linejoin", "round");
    // A highlighter is a translucent pen (protocol v2).
    if (shape.tool === "highlighter") el.setAttribute("stroke-opacity", "0.4");
  } else if (shape.tool === "arrow") {
    el = arrowElement(first, last, shape.width, options.aspect);
  } else if (shape.tool === "line") {
    el = document.createElementNS(SVG, "line");
    el.setAttribute("x1", first[0]); el.setAttribute("y1", first[1]);
    el.setAttribute("x2", last[0]); el.setAttribute("y2", last[1]);
  } else if (shape.tool === "rect") {
    el = document.createElementNS(SVG, "rect");
    el.setAttribute("x", Math.min(first[0], last[0])); el.setAttribute("y", Math.min(first[1], last[1]));
    el.setAttribute("width", Math.abs(last[0] - first[0])); el.setAttribute("height", Math.abs(last[1] - first[1]));
  } else if (shape.tool === "ellipse") {
    el = document.createElementNS(SVG, "ellipse");
    el.setAttribute("cx", (first[0] + last[0]) / 2); el.setAttribute("cy", (first[1] + last[1]) / 2);
    el.setAttribute("rx", Math.abs(last[0] - first[0]) / 2); el.setAttribute("ry", Math.abs(last[1] - first[1]) / 2);
  } else {
    el = textElement(shape, first, options.aspect);
  }
  if (shape.tool !== "text") {
    el.setAttribute("fill", "none");
    el.setAttribute("stroke", shape.color);
    el.setAttribute("stroke-width", shape.width);
    el.setAttribute("vector-effect", "non-scaling-stroke");
    el.style.strokeWidth = `${strokePixels(shape.width)}px`;
  }
  el.dataset.shape = shape.id;
  return el;
}
