// A modal dialog on the native <dialog> element: focus is trapped and restored by the browser,
// Escape closes it. Open it by rendering it with open=true; onClose gets the button's value.
import { useEffect, useRef } from "preact/hooks";
import { X } from "lucide-preact";
import { t } from "../core/i18n.js";

export function Modal({ id, open, title, onClose, children, wide = false, closable = true }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.returnValue = ""; // Escape would otherwise report the last button's value
      dialog.showModal();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      id={id}
      ref={ref}
      class={`modal ${wide ? "wide" : ""}`}
      aria-labelledby={title ? `${id}-title` : undefined}
      onClose={() => onClose?.(ref.current.returnValue)}
      onCancel={(event) => { if (!closable) event.preventDefault(); }}
    >
      <form method="dialog">
        {title && (
          <header class="modal-head">
            <h2 id={`${id}-title`}>{title}</h2>
            {closable && (
              // type="button": as the form's first submit button, Enter in any field of the
              // dialog would otherwise "click" it and close the dialog.
              <button
                type="button"
                class="ghost icon-only"
                aria-label={t("close")}
                onClick={() => ref.current?.close("cancel")}
              >
                <X size={18} aria-hidden="true" />
              </button>
            )}
          </header>
        )}
        {children}
      </form>
    </dialog>
  );
}
