// Text typed in place on the slide: a text shape where the text tool clicked, a sticky note
// where the note tool clicked (on its paper, at its size), or the text of a note or text shape
// being changed. Enter places it, Shift+Enter starts a new line, Escape abandons it.
import { signal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../../core/i18n.js";
import { NOTE_INK, NOTE_SIZE, NOTE_TEXT, noteBox, textSize, TEXT_FONT } from "../../../../sala/room/static/shapes.js";
import { addShape, color, newShapeId, noteColor, updateShape, width } from "./tools.js";

/** What is being typed: {tool: "text" | "note", x, y, shape (when changing one)}, or null. */
export const editing = signal(null);

const MAX = 500;

/** The shape the typed text makes (a new one, or the changed one), or null for nothing. */
function result(spot, text) {
  if (spot.shape) return text && text !== spot.shape.text ? { ...spot.shape, text } : null;
  if (!text) return null;
  if (spot.tool === "note") {
    const corner = [spot.x + NOTE_SIZE, spot.y + NOTE_SIZE].map((v) => Math.round(v * 10000) / 10000);
    return { id: newShapeId(), tool: "note", points: [[spot.x, spot.y], corner], color: noteColor.value, width: 0.004, text };
  }
  return { id: newShapeId(), tool: "text", points: [[spot.x, spot.y]], color: color.value, width: width.value, text };
}

/** `box`: the slide's size in pixels; `onSent(shape, isNew)` shows it before the server confirms. */
export function TextEditor({ box, onSent }) {
  const spot = editing.value;
  const ref = useRef(null);
  useLayoutEffect(() => {
    const area = ref.current;
    if (!area) return;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }, [spot]);
  if (!spot) return null;
  const note = spot.tool === "note";
  const commit = () => {
    if (editing.value !== spot) return; // abandoned (Escape) or already placed
    const text = (ref.current?.value.replace(/\s+$/, "") || "").slice(0, MAX);
    editing.value = null;
    const shape = result(spot, text);
    if (!shape) return;
    if (spot.shape) updateShape(shape);
    else addShape(shape);
    onSent(shape, !spot.shape);
  };
  let style;
  if (note) {
    const [x0, y0, x1, y1] = spot.shape ? noteBox(spot.shape) : [spot.x, spot.y, spot.x + NOTE_SIZE, spot.y + NOTE_SIZE];
    const px = NOTE_TEXT * box.height;
    style = {
      left: `${x0 * 100}%`, top: `${y0 * 100}%`, width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%`,
      fontSize: `${px}px`, padding: `${px * 0.5}px`, fontFamily: TEXT_FONT,
      background: spot.shape ? spot.shape.color : noteColor.value, color: NOTE_INK,
    };
  } else {
    const shape = spot.shape || { width: width.value };
    const px = textSize(shape) * box.height;
    const [x, y] = spot.shape ? spot.shape.points[0] : [spot.x, spot.y];
    style = { left: `${x * 100}%`, top: `${y * box.height - px * 0.95}px`, fontSize: `${px}px`, fontFamily: TEXT_FONT,
      color: spot.shape ? spot.shape.color : color.value };
  }
  return (
    <textarea
      ref={ref}
      id="whiteboard-text"
      class={`whiteboard-text ${note ? "note" : ""}`}
      rows={1}
      maxLength={MAX}
      aria-label={t(note ? "wbNoteLabel" : "wbTextLabel")}
      placeholder={t("wbTextPlaceholder")}
      defaultValue={spot.shape?.text || ""}
      style={style}
      onInput={(e) => {
        if (note) return;
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
