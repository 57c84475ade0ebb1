// Whiteboard shapes as SVG, shared by the room and the recordings' player: shapes are data
// (tool, points in fractions of the slide, colour, width), never markup from a browser.
export const SVG = "http://www.w3.org/2000/svg";

// A published poll's result, drawn by the server on the page: a panel with a bar per answer.
function pollElement(shape, label, title) {
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
    el.setAttribute("x", x0 + 0.01); el.setAttribute("y", y);
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

export function shapeElement(shape, label = (key) => key, pollTitle = "") {
  const [first, last] = [shape.points[0], shape.points[shape.points.length - 1]];
  let el;
  if (shape.tool === "poll") {
    el = pollElement(shape, label, pollTitle);
    el.dataset.shape = shape.id;
    return el;
  }
  if (shape.tool === "pen") {
    el = document.createElementNS(SVG, "polyline");
    el.setAttribute("points", shape.points.map((p) => p.join(",")).join(" "));
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
    el = document.createElementNS(SVG, "text");
    el.setAttribute("x", first[0]); el.setAttribute("y", first[1]);
    el.setAttribute("font-size", "0.04");
    el.setAttribute("fill", shape.color);
    el.textContent = shape.text || "";
  }
  if (shape.tool !== "text") {
    el.setAttribute("fill", "none");
    el.setAttribute("stroke", shape.color);
    el.setAttribute("stroke-width", shape.width);
    el.setAttribute("vector-effect", "non-scaling-stroke");
    el.style.strokeWidth = `${Math.max(1, shape.width * 600)}px`;
  }
  el.dataset.shape = shape.id;
  return el;
}
