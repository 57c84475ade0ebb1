// The presentation's state as the server tells it (docs/protocol.md): the meeting's documents,
// the current one and its page, the annotations of the current document, who may draw, and the
// presenter's view (the part of the page everybody sees, in fractions of the slide).
import { computed, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { disabled, flag, isPresenter, me, meeting, on, userdata } from "../../core/store.js";

export const WHOLE = { x: 0, y: 0, w: 1, h: 1 };
export const MIN_VIEW = 0.1;

export const presentations = signal([]);
export const currentId = signal(null);
/** {page: [shape]} of the current presentation. */
export const annotations = signal({});
export const multiUser = signal(false);
export const view = signal(WHOLE);

export const currentDoc = computed(
  () => presentations.value.find((d) => d.id === currentId.value && d.state === "ready") || null,
);
export const processing = computed(() => presentations.value.filter((d) => d.state === "processing"));
export const failed = computed(() => presentations.value.filter((d) => d.state === "failed"));

/** Hidden for this page by create's disabledFeatures or join's userdata-bbb_hide_presentation. */
export const presentationHidden = computed(() => {
  void meeting.value;
  void userdata.value;
  return disabled("presentation") || flag("bbb_hide_presentation", false);
});

/** True when the stage has a presentation to show. */
export const hasPresentation = computed(
  () => !presentationHidden.value && (Boolean(currentDoc.value) || processing.value.length > 0),
);

export const canDraw = computed(
  () => Boolean(currentDoc.value) && (isPresenter.value || multiUser.value),
);

export const pageShapes = computed(() => {
  const doc = currentDoc.value;
  return doc ? annotations.value[doc.page] || [] : [];
});

export const canDownload = computed(() => {
  const doc = currentDoc.value;
  void meeting.value;
  return Boolean(doc?.downloadable) && !disabled("downloadPresentationOriginalFile") &&
    !disabled("downloadPresentationWithAnnotations");
});

export const canSnapshot = computed(() => {
  void meeting.value;
  return Boolean(currentDoc.value) && !disabled("snapshotOfCurrentSlide");
});

export function slideUrl(doc, page = doc.page, thumb = false) {
  return `/room/slides/${encodeURIComponent(doc.id)}/${page}${thumb ? "?thumb=1" : ""}`;
}

function load(m) {
  presentations.value = m.presentations || [];
  currentId.value = m.current || null;
  annotations.value = m.annotations || {};
  multiUser.value = Boolean(m.multiUserWhiteboard);
  view.value = m.view || WHOLE;
}

on("welcome", load);
on("presentation.updated", load);
on("presentation.progress", (m) => {
  presentations.value = presentations.value.map((d) =>
    d.id === m.presentation ? { ...d, progress: { done: m.done, total: m.total } } : d,
  );
});
on("presentation.page", (m) => {
  presentations.value = presentations.value.map((d) => (d.id === m.presentation ? { ...d, page: m.page } : d));
  view.value = WHOLE;
});
on("presentation.zoom", (m) => (view.value = { x: m.x, y: m.y, w: m.w, h: m.h }));
on("whiteboard.multi", (m) => (multiUser.value = m.enabled));
on("draw.added", (m) => {
  if (m.presentation !== currentId.value) return;
  const shapes = annotations.value[m.page] || [];
  if (shapes.some((s) => s.id === m.shape.id)) return;
  annotations.value = { ...annotations.value, [m.page]: [...shapes, m.shape] };
});
on("draw.updated", (m) => {
  const shapes = annotations.value[m.page];
  if (m.presentation !== currentId.value || !shapes) return;
  // In place: a shape keeps its place in the drawing order (what covers what).
  annotations.value = { ...annotations.value, [m.page]: shapes.map((s) => (s.id === m.shape.id ? m.shape : s)) };
});
on("draw.removed", (m) => {
  if (m.presentation !== currentId.value || !annotations.value[m.page]) return;
  const gone = new Set(m.ids);
  annotations.value = { ...annotations.value, [m.page]: annotations.value[m.page].filter((s) => !gone.has(s.id)) };
});

// ------------------------------------------------------------------- presenter's acts --
export function turnPage(by) {
  const doc = currentDoc.value;
  if (!doc) return;
  const page = Math.min(doc.pages, Math.max(1, doc.page + by));
  if (page !== doc.page) send({ type: "presentation.page", page });
}

export function goToPage(page) {
  const doc = currentDoc.value;
  if (doc && page >= 1 && page <= doc.pages && page !== doc.page) send({ type: "presentation.page", page });
}

const clamp01 = (value, size) => Math.min(Math.max(0, value), 1 - size);

export function sendView(v) {
  send({ type: "presentation.zoom", x: clamp01(v.x, v.w), y: clamp01(v.y, v.h), w: v.w, h: v.h });
}

/** Zoom by factor (< 1 zooms in) around a point of the slide (fractions), the view's centre by default. */
export function zoomBy(factor, around) {
  const v = view.value;
  const w = Math.min(1, Math.max(MIN_VIEW, v.w * factor));
  const h = Math.min(1, Math.max(MIN_VIEW, v.h * factor));
  const [cx, cy] = around || [v.x + v.w / 2, v.y + v.h / 2];
  // Keep the point under the cursor where it is on screen.
  const fx = around ? (cx - v.x) / v.w : 0.5;
  const fy = around ? (cy - v.y) / v.h : 0.5;
  sendView({ x: cx - w * fx, y: cy - h * fy, w, h });
}

export function resetView() {
  sendView(WHOLE);
}

export const zoomed = computed(() => view.value.w < 1 || view.value.h < 1);

export function showPresentation(id) {
  send({ type: "presentation.show", presentation: id });
}

export function removePresentation(id) {
  send({ type: "presentation.remove", presentation: id });
}

export function setMultiUser(enabled) {
  send({ type: "whiteboard.multi", enabled });
}

export { isPresenter, me };
