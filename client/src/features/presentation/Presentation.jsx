// The presentation as the stage shows it, filling the box it is given: the slide with its
// annotations, fitted to the page or to the width, zoomed and moved as the presenter says;
// a header with the document, its status and the page's options; the presenter's page and zoom
// bar; the drawing tools for whoever may draw. Minimising it is the stage's (ui/layout.js).
import { signal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import {
  ChevronLeft, ChevronRight, Download, Expand, ImageDown, LoaderCircle, MoveHorizontal,
  Scan, Shrink, TriangleAlert, ZoomIn, ZoomOut,
} from "lucide-preact";
import { t } from "../../core/i18n.js";
import { isPresenter, toast } from "../../core/store.js";
import {
  canDownload, canDraw, canSnapshot, currentDoc, failed, goToPage, processing, resetView, slideUrl,
  turnPage, view, zoomBy, zoomed,
} from "./state.js";
import { Pointers } from "./Pointers.jsx";
import { editing } from "./TextEditor.jsx";
import { chooseTool, tool, TOOL_KEYS, undo } from "./tools.js";
import { selectionKey, Whiteboard } from "./Whiteboard.jsx";
import { WhiteboardToolbar } from "./WhiteboardToolbar.jsx";
import { snapshotSlide } from "./snapshot.js";
import { recall, remember } from "../../core/storage.js";

/** Fit the slide to the page (all of it visible) or to the width (scrolling down). Per browser. */
const fit = signal(recall("sala-slide-fit") || "page");

function setFit(value) {
  fit.value = value;
  remember("sala-slide-fit", value);
}

function HeadButton({ icon: Icon, label, ...rest }) {
  return (
    <button type="button" class="pres-head-button" aria-label={label} data-tooltip={label} {...rest}>
      <Icon size={18} aria-hidden="true" />
    </button>
  );
}

function Status() {
  const notes = processing.value.map((d) => ({
    id: d.id,
    kind: "busy",
    text: d.progress?.total
      ? t("presentationProgress", { name: d.name, done: d.progress.done, total: d.progress.total })
      : t("presentationProcessing", { name: d.name }),
  }));
  if (isPresenter.value) {
    for (const d of failed.value) notes.push({ id: d.id, kind: "error", text: t("presentationFailed", { name: d.name, reason: d.error || "" }) });
  }
  return (
    <p id="presentation-status" class="pres-status" role="status" hidden={notes.length === 0}>
      {notes.map((n) => (
        <span key={n.id} class={`pres-chip ${n.kind}`}>
          {n.kind === "busy" ? <LoaderCircle class="spin" size={14} aria-hidden="true" /> : <TriangleAlert size={14} aria-hidden="true" />}
          {n.text}
        </span>
      ))}
    </p>
  );
}

function PresenterBar() {
  const doc = currentDoc.value;
  if (!doc) return null;
  const v = view.value;
  const percent = Math.round(100 / Math.min(v.w, v.h));
  return (
    <div id="presenter-tools" class="pres-bar" role="toolbar" aria-label={t("presenterTools")}>
      <button type="button" id="prev-page" class="pres-bar-button" aria-label={t("previousPage")} data-tooltip={t("previousPage")}
        disabled={doc.page <= 1} onClick={() => turnPage(-1)}>
        <ChevronLeft size={20} aria-hidden="true" />
      </button>
      <label class="pres-page-select">
        <span class="visually-hidden">{t("pageChoice")}</span>
        <select id="page-select" value={String(doc.page)} onChange={(e) => goToPage(Number(e.currentTarget.value))}>
          {Array.from({ length: doc.pages }, (_, i) => (
            <option key={i} value={String(i + 1)}>{t("presPageOf", { page: i + 1, pages: doc.pages })}</option>
          ))}
        </select>
      </label>
      <button type="button" id="next-page" class="pres-bar-button" aria-label={t("nextPage")} data-tooltip={t("nextPage")}
        disabled={doc.page >= doc.pages} onClick={() => turnPage(1)}>
        <ChevronRight size={20} aria-hidden="true" />
      </button>
      <span class="pres-bar-sep" role="separator" />
      <button type="button" id="zoom-out" class="pres-bar-button" aria-label={t("zoomOut")} data-tooltip={t("zoomOut")}
        disabled={!zoomed.value} onClick={() => zoomBy(1.25)}>
        <ZoomOut size={18} aria-hidden="true" />
      </button>
      <button type="button" id="zoom-reset" class="pres-zoom-value" aria-label={t("zoomReset", { percent })} data-tooltip={t("zoomResetTip")}
        disabled={!zoomed.value} onClick={resetView}>
        {percent}%
      </button>
      <button type="button" id="zoom-in" class="pres-bar-button" aria-label={t("zoomIn")} data-tooltip={t("zoomIn")}
        disabled={v.w <= 0.1001} onClick={() => zoomBy(0.8)}>
        <ZoomIn size={18} aria-hidden="true" />
      </button>
    </div>
  );
}

/** `actions`: buttons the stage adds to the header (its "hide presentation"). */
export function Presentation({ actions = null }) {
  const doc = currentDoc.value;
  const body = useRef(null);
  const slide = useRef(null);
  const root = useRef(null);
  const [room, setRoom] = useState({ width: 0, height: 0 });
  const [aspect, setAspect] = useState(16 / 9);
  const [fullscreen, setFullscreen] = useState(false);

  useLayoutEffect(() => {
    const element = body.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      setRoom({ width, height });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const change = () => setFullscreen(document.fullscreenElement === root.current);
    document.addEventListener("fullscreenchange", change);
    return () => document.removeEventListener("fullscreenchange", change);
  }, []);

  // The slide's box: all of the page within the room, or the full width (scrolling).
  const available = { width: Math.max(0, room.width), height: Math.max(0, room.height) };
  const byWidth = fit.value === "width";
  let frameWidth = available.width;
  let frameHeight = frameWidth / aspect;
  if (!byWidth && frameHeight > available.height) {
    frameHeight = available.height;
    frameWidth = frameHeight * aspect;
  }
  const v = view.value;
  const box = { width: frameWidth, height: frameHeight };

  const onLoad = (event) => {
    const img = event.currentTarget;
    if (img.naturalWidth && img.naturalHeight) setAspect(img.naturalWidth / img.naturalHeight);
  };

  const onKeyDown = (event) => {
    if (event.target.closest("input, textarea, select")) return;
    if (!event.altKey && selectionKey(event)) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (event.ctrlKey || event.metaKey) {
      if (event.key.toLowerCase() === "z" && canDraw.value) {
        event.preventDefault();
        undo();
      }
      return;
    }
    if (event.altKey) return;
    if (isPresenter.value && (event.key === "ArrowRight" || event.key === "PageDown")) return void turnPage(1);
    if (isPresenter.value && (event.key === "ArrowLeft" || event.key === "PageUp")) return void turnPage(-1);
    if (isPresenter.value && (event.key === "+" || event.key === "=")) return void zoomBy(0.8);
    if (isPresenter.value && event.key === "-") return void zoomBy(1.25);
    if (canDraw.value && event.key.length === 1) {
      const before = tool.value;
      chooseTool(TOOL_KEYS[event.key.toLowerCase()]);
      if (tool.value !== before) event.preventDefault();
    }
  };

  // Ctrl + wheel (and a trackpad's pinch) zooms the presenter's view around the pointer.
  const onWheel = (event) => {
    if (!isPresenter.value || !event.ctrlKey || !doc) return;
    event.preventDefault();
    const rect = event.currentTarget.querySelector("#annotations").getBoundingClientRect();
    const at = [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
    const cx = v.x + at[0] * v.w;
    const cy = v.y + at[1] * v.h;
    zoomBy(event.deltaY < 0 ? 0.9 : 1.1, [cx, cy]);
  };

  const toggleFullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else root.current?.requestFullscreen?.().catch(() => {});
  };

  const snapshot = () =>
    snapshotSlide(slide.current, root.current.querySelector("#annotations"), doc).catch((error) => toast(String(error), { kind: "error" }));

  return (
    <section id="presentation" class={`presentation ${doc && canDraw.value ? "with-tools" : ""}`} ref={root} aria-label={t("presentation")}>
      <header class="pres-head">
        <div class="pres-title">
          <span class="pres-name">{doc ? doc.name : t("presentation")}</span>
          {doc && <span class="pres-page" id="page-label">{t("presPageOf", { page: doc.page, pages: doc.pages })}</span>}
        </div>
        <Status />
        <div class="pres-head-actions">
          {doc && (
            <HeadButton
              id="fit"
              icon={byWidth ? Scan : MoveHorizontal}
              label={byWidth ? t("fitPage") : t("fitWidth")}
              onClick={() => setFit(byWidth ? "page" : "width")}
            />
          )}
          {canSnapshot.value && <HeadButton id="snapshot" icon={ImageDown} label={t("snapshot")} onClick={snapshot} />}
          {canDownload.value && (
            <a id="download" class="pres-head-button" href={`/room/documents/${encodeURIComponent(doc.id)}`} download
              aria-label={t("download")} data-tooltip={t("download")}>
              <Download size={18} aria-hidden="true" />
            </a>
          )}
          {document.fullscreenEnabled && (
            <HeadButton id="presentation-fullscreen" icon={fullscreen ? Shrink : Expand}
              label={fullscreen ? t("presExitFullscreen") : t("presFullscreen")} onClick={toggleFullscreen} />
          )}
          {actions}
        </div>
      </header>
      <div
        class={`pres-body ${byWidth ? "by-width" : ""}`}
        ref={body}
        tabIndex={canDraw.value || isPresenter.value ? 0 : -1}
        aria-label={doc ? t("slideAlt", { name: doc.name, page: doc.page, pages: doc.pages }) : undefined}
        onKeyDown={onKeyDown}
        onWheel={onWheel}
      >
        {doc ? (
          <div id="slide-frame" class="slide-frame" style={{ width: `${frameWidth}px`, height: `${frameHeight}px` }}>
            <div
              id="slide-view"
              class="slide-view"
              data-view={[v.x, v.y, v.w, v.h].join(",")}
              style={{ transform: `scale(${1 / v.w}, ${1 / v.h}) translate(${-v.x * 100}%, ${-v.y * 100}%)` }}
            >
              <img
                ref={slide}
                id="slide"
                class="slide"
                src={slideUrl(doc)}
                alt={t("slideAlt", { name: doc.name, page: doc.page, pages: doc.pages })}
                data-presentation={doc.id}
                data-page={String(doc.page)}
                draggable={false}
                onLoad={onLoad}
              />
              <Whiteboard aspect={aspect} box={box} />
            </div>
            <Pointers />
          </div>
        ) : (
          <div class="pres-empty">
            <LoaderCircle class="spin" size={32} aria-hidden="true" />
          </div>
        )}
      </div>
      {doc && canDraw.value && <WhiteboardToolbar />}
      {isPresenter.value ? (
        <PresenterBar />
      ) : (
        doc && <p class="pres-bar pres-bar-viewer" aria-hidden="true">{t("presPageOf", { page: doc.page, pages: doc.pages })}</p>
      )}
      {editing.value && <span class="visually-hidden" role="status">{t(editing.value.tool === "note" ? "wbNoteHint" : "wbTextHint")}</span>}
    </section>
  );
}
