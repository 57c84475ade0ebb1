// The moderators' menu at the top of the user list (BBB's "Manage users"): mute everyone, mute
// everyone but the presenter, lock viewers (a dialog), lower all hands, save the names.
import { useEffect, useState } from "preact/hooks";
import { ArrowDownToLine, Download, Lock, MicOff, Settings2, VolumeX } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { locks } from "../../core/store.js";
import { Menu } from "../../ui/Menu.jsx";
import { Modal } from "../../ui/Modal.jsx";
import { lowerAllHands, mediaSettings, muteEveryone, muteEveryoneButPresenter, saveNames, setLocks } from "./people.js";

/** The lock settings in BBB's order, with the words the old page used. */
const LOCKS = [
  ["disableCam", "lockCam"],
  ["disableMic", "lockMic"],
  ["disablePublicChat", "lockPublicChat"],
  ["disablePrivateChat", "lockPrivateChat"],
  ["disableNotes", "lockNotes"],
  ["hideUserList", "lockUserList"],
  ["hideViewersCursor", "lockViewersCursor"],
];

/** Switches that hide something from viewers when on, and what they then see. */
const HIDES = { hideUserList: "lockHideUserListNote", hideViewersCursor: "lockHideViewersCursorNote" };

function LockDialog({ open, onClose }) {
  const [draft, setDraft] = useState(locks.value);
  // Every opening starts from the meeting's settings as they are now.
  useEffect(() => { if (open) setDraft(locks.value); }, [open]);
  return (
    <Modal
      id="lock-dialog"
      open={open}
      title={t("lockSettings")}
      onClose={(value) => {
        if (value === "apply") setLocks(Object.fromEntries(LOCKS.map(([key]) => [key, Boolean(draft[key])])));
        onClose();
      }}
    >
      <p class="lock-hint">{t("lockViewersHint")}</p>
      <ul class="lock-list">
        {LOCKS.map(([key, label]) => {
          // A switch that is on locks the thing for viewers ("See other viewers": they no longer do).
          const inverted = HIDES[key];
          const checked = Boolean(draft[key]);
          return (
            <li key={key}>
              <label class="switch-row">
                <span class="switch-label">
                  {t(label)}
                  {inverted && <small>{t(inverted)}</small>}
                </span>
                <input
                  type="checkbox"
                  role="switch"
                  class="switch"
                  data-lock={key}
                  checked={checked}
                  onChange={(event) => setDraft({ ...draft, [key]: event.currentTarget.checked })}
                />
                <span class="switch-state" aria-hidden="true">{checked ? t("locked") : ""}</span>
              </label>
            </li>
          );
        })}
      </ul>
      <footer class="modal-actions">
        <button value="cancel" class="secondary">{t("cancel")}</button>
        <button value="apply" id="lock-apply">{t("apply")}</button>
      </footer>
    </Modal>
  );
}

export function ModeratorTools() {
  const [locking, setLocking] = useState(false);
  const media = mediaSettings.value.available;
  const anyLock = LOCKS.some(([key]) => locks.value[key]);
  return (
    <>
      {anyLock && (
        <span class="lock-indicator" role="img" aria-label={t("locked")} title={t("locked")}>
          <Lock size={14} aria-hidden="true" />
        </span>
      )}
      <Menu
        id="manage-users"
        label={t("manageUsers")}
        triggerClass="ghost icon-only"
        trigger={<Settings2 size={18} aria-hidden="true" />}
        items={[
          media && { key: "mute-all", icon: MicOff, label: t("muteEveryone"), run: muteEveryone },
          media && { key: "mute-all-but-presenter", icon: VolumeX, label: t("muteExceptPresenter"), run: muteEveryoneButPresenter },
          { key: "lock-viewers", icon: Lock, label: t("lockViewersItem"), run: () => setLocking(true) },
          { key: "lower-hands", icon: ArrowDownToLine, label: t("lowerAllHands"), run: lowerAllHands },
          { key: "save-names", icon: Download, label: t("saveNames"), run: saveNames },
        ]}
      />
      <LockDialog open={locking} onClose={() => setLocking(false)} />
    </>
  );
}
