// The shared notes panel: the text everybody writes together, read-only when a lock says so,
// its download as a text file, and the moderators' reset behind a confirmation.
import { useEffect, useRef, useState } from "preact/hooks";
import { Download, Eraser, Lock, X } from "lucide-preact";
import { send } from "../../core/connection.js";
import { t } from "../../core/i18n.js";
import { isModerator, lockedForMe, locks, me } from "../../core/store.js";
import { sidePanel } from "../../ui/layout.js";
import { Modal } from "../../ui/Modal.jsx";
import { notes } from "./state.js";

function download(text) {
  const blob = new Blob([text], { type: "text/plain;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "notes.txt";
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function NotesPanel() {
  const area = useRef(null);
  const [confirming, setConfirming] = useState(false);
  const [length, setLength] = useState(0);
  useEffect(() => {
    const element = area.current;
    notes.attach(element);
    const count = () => setLength(element.value.length);
    count();
    element.addEventListener("input", count);
    const timer = setInterval(count, 1000); // others' edits change the value without input events
    return () => {
      notes.detach(element);
      element.removeEventListener("input", count);
      clearInterval(timer);
    };
  }, []);
  void locks.value;
  void me.value;
  const readOnly = !me.value || lockedForMe("disableNotes");
  return (
    <>
      <header class="panel-head">
        <h2 id="notes-title">{t("sharedNotes")}</h2>
        <span class="spacer" />
        <button type="button" id="notes-download" class="ghost icon-only" aria-label={t("notesDownload")}
          data-tooltip={t("notesDownload")} onClick={() => download(area.current?.value || "")}>
          <Download size={18} aria-hidden="true" />
        </button>
        {isModerator.value && (
          <button type="button" id="notes-reset" class="ghost icon-only" aria-label={t("notesReset")}
            data-tooltip={t("notesReset")} onClick={() => setConfirming(true)}>
            <Eraser size={18} aria-hidden="true" />
          </button>
        )}
        <button type="button" class="ghost icon-only" aria-label={t("close")} data-tooltip={t("close")}
          onClick={() => (sidePanel.value = null)}>
          <X size={18} aria-hidden="true" />
        </button>
      </header>
      {readOnly && (
        <p class="notes-locked" role="status"><Lock size={14} aria-hidden="true" /> {t("notesLocked")}</p>
      )}
      <div class="notes-sheet">
        <textarea
          ref={area}
          id="notes"
          class="notes"
          aria-labelledby="notes-title"
          aria-describedby="notes-help"
          placeholder={readOnly ? "" : t("notesPlaceholder")}
          readOnly={readOnly}
          spellcheck
        />
      </div>
      <footer class="notes-foot">
        <span id="notes-help">{t("notesHelp")}</span>
        <span class="notes-count">{t("notesCount", { count: length })}</span>
      </footer>
      <Modal id="confirm-notes-reset" open={confirming} title={t("notesReset")}
        onClose={(value) => {
          setConfirming(false);
          if (value === "reset") send({ type: "notes.reset", ref: "reset-notes" });
        }}>
        <p>{t("notesResetConfirm")}</p>
        <div class="modal-actions">
          <button value="cancel" class="secondary">{t("cancel")}</button>
          <button value="reset" class="danger">{t("notesReset")}</button>
        </div>
      </Modal>
    </>
  );
}
