// notifyRecordingIsOn (BBB 2.6): whoever is in a meeting that is being recorded is asked to stay
// (and so agree to be recorded) or leave, once per recording stretch. The moderator who starts
// the recording is not asked.
import { signal } from "@preact/signals";
import { t } from "../core/i18n.js";
import { me, meeting, on } from "../core/store.js";
import { Modal } from "./Modal.jsx";
import { leave } from "./TopBar.jsx";

const open = signal(false);
let noticed = false;

function consider(startedBy) {
  const m = meeting.value;
  if (!m?.recording) {
    noticed = false;
    return;
  }
  if (noticed || !m.notifyRecordingIsOn) return;
  if (startedBy && startedBy === me.value?.name) return;
  noticed = true;
  open.value = true;
}

// After the core handlers (registered first, in store.js), so the meeting is up to date.
on("welcome", () => consider(null));
on("recording.updated", (m) => consider(m.recording ? m.by : null));

export function RecordingNotice() {
  return (
    <Modal
      id="recording-notice"
      open={open.value}
      title={t("recording")}
      closable={false}
      onClose={(value) => {
        open.value = false;
        if (value === "leave") leave();
      }}
    >
      <p>{t("recordingNotice")}</p>
      <footer class="modal-actions">
        <button value="leave" class="secondary">{t("leave")}</button>
        <button value="stay">{t("recordingStay")}</button>
      </footer>
    </Modal>
  );
}
