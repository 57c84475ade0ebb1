// The drawing tools beside the slide, for the presenter and, with the multi-user whiteboard,
// for everybody: tools (two columns), colour and width (a note's paper for the note tool),
// undo, clear the page, and (presenter) who may draw.
import { useEffect, useRef, useState } from "preact/hooks";
import { useCloseOnOutside } from "../../ui/popover.js";
import { Trash2, Undo2, Users } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { isPresenter } from "../../core/store.js";
import { multiUser, setMultiUser } from "./state.js";
import { availableTools, clearPage, color, COLORS, NOTE_COLORS, noteColor, tool, undo, width, WIDTHS } from "./tools.js";

function ToolButton({ icon: Icon, label, pressed, shortcut, ...rest }) {
  const tip = shortcut ? `${label} (${shortcut.toUpperCase()})` : label;
  return (
    <button
      type="button"
      class="wb-button"
      aria-label={label}
      aria-pressed={pressed === undefined ? undefined : String(Boolean(pressed))}
      data-tooltip={tip}
      {...rest}
    >
      <Icon size={18} aria-hidden="true" />
    </button>
  );
}

function StylePicker() {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    root.current?.querySelector("[aria-pressed=true]")?.focus();
  }, [open]);
  useCloseOnOutside(open, root, () => setOpen(false));
  const close = (event) => {
    if (event.key !== "Escape") return;
    event.stopPropagation();
    setOpen(false);
    root.current?.querySelector(".wb-style-trigger")?.focus();
  };
  return (
    <div class="wb-style" ref={root} onKeyDown={close}>
      <button
        type="button"
        id="draw-style"
        class="wb-button wb-style-trigger"
        aria-label={t("wbStyle")}
        data-tooltip={t("wbStyle")}
        aria-expanded={String(open)}
        aria-controls="draw-style-panel"
        onClick={() => setOpen(!open)}
      >
        <span class="wb-swatch-dot" style={{ background: tool.value === "note" ? noteColor.value : color.value, "--dot": `${4 + width.value * 600}px` }} />
      </button>
      {open && (
        <div id="draw-style-panel" class="wb-style-panel" role="group" aria-label={t("wbStyle")}>
          {tool.value === "note" && <NotePapers />}
          <p class="wb-style-title" id="draw-colors-title">{t("toolColor")}</p>
          <div class="wb-swatches" role="group" aria-labelledby="draw-colors-title">
            {COLORS.map((c) => <Swatch key={c.value} choice={c} chosen={color} data="data-color" />)}
            <label class="wb-swatch wb-custom" data-tooltip={t("colorCustom")}>
              <span class="visually-hidden">{t("colorCustom")}</span>
              <input id="draw-color" type="color" value={color.value} onInput={(e) => (color.value = e.currentTarget.value)} />
            </label>
          </div>
          <p class="wb-style-title" id="draw-widths-title">{t("toolWidth")}</p>
          <div class="wb-widths" role="group" aria-labelledby="draw-widths-title">
            {WIDTHS.map((w) => (
              <button
                key={w.value}
                type="button"
                class="wb-width"
                aria-label={t(w.label)}
                data-width={w.value}
                aria-pressed={String(width.value === w.value)}
                onClick={() => (width.value = w.value)}
              >
                <span style={{ height: `${Math.max(1, w.value * 600)}px` }} />
              </button>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}

/** One colour of a palette, pressed while it is the signal `chosen`'s; `data` names the
 * attribute that carries the colour (the browser tests find swatches by it). */
function Swatch({ choice, chosen, data }) {
  return (
    <button
      type="button"
      class="wb-swatch"
      style={{ background: choice.value }}
      aria-label={t(choice.label)}
      {...{ [data]: choice.value }}
      aria-pressed={String(chosen.value === choice.value)}
      onClick={() => (chosen.value = choice.value)}
    />
  );
}

/** The sticky note's paper, from a small palette (yellow unless chosen). */
function NotePapers() {
  return (
    <>
      <p class="wb-style-title" id="note-colors-title">{t("noteColor")}</p>
      <div class="wb-swatches" role="group" aria-labelledby="note-colors-title">
        {NOTE_COLORS.map((c) => <Swatch key={c.value} choice={c} chosen={noteColor} data="data-note-color" />)}
      </div>
    </>
  );
}

export function WhiteboardToolbar() {
  return (
    <div id="draw-tools" class="wb-toolbar" role="toolbar" aria-label={t("wbTools")} aria-orientation="vertical">
      <div class="wb-tools">
      {availableTools.value.map((x) => (
        <ToolButton
          key={x.id}
          icon={x.icon}
          label={t(x.label)}
          shortcut={x.key}
          data-tool={x.id}
          id={x.id === "pan" ? "pan-tool" : undefined}
          pressed={tool.value === x.id}
          onClick={() => (tool.value = x.id)}
        />
      ))}
      </div>
      <span class="wb-sep" role="separator" />
      <StylePicker />
      <span class="wb-sep" role="separator" />
      <ToolButton icon={Undo2} label={t("toolUndo")} shortcut="ctrl+z" id="draw-undo" onClick={undo} />
      <ToolButton icon={Trash2} label={t("toolClear")} id="draw-clear" onClick={clearPage} />
      {isPresenter.value && (
        <>
          <span class="wb-sep" role="separator" />
          <ToolButton
            icon={Users}
            label={t("multiUser")}
            id="multi-user"
            pressed={multiUser.value}
            onClick={() => setMultiUser(!multiUser.value)}
          />
        </>
      )}
    </div>
  );
}
