// The moderators' menu at the top of the user list (BBB's "Manage users"): mute everyone, mute
// everyone but the presenter, lock viewers (a dialog), clear all statuses, lower all hands, the
// guest policy (a dialog), save the names.
import { useEffect, useState } from "preact/hooks";
import { ArrowDownToLine, Download, Eraser, Lock, MicOff, Settings2, UserCheck, VolumeX } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { locks, users } from "../../core/store.js";
import { Menu } from "../../ui/Menu.jsx";
import { Modal } from "../../ui/Modal.jsx";
import {
  clearAllStatuses, GUEST_POLICIES, guestPolicy, lowerAllHands, mediaSettings, muteEveryone, muteEveryoneButPresenter, saveNames,
  setGuestPolicy, setLocks,
} from "./people.js";

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

/** BBB's guest policy dialog: three choices, the current one pressed; a choice applies at once. */
function GuestPolicyDialog({ open, onClose }) {
  const current = guestPolicy.value;
  return (
    <Modal id="guest-policy-dialog" open={open} title={t("guestPolicy")} onClose={(value) => {
      if (GUEST_POLICIES.includes(value) && value !== current) setGuestPolicy(value);
      onClose();
    }}>
      <p class="lock-hint">{t("guestPolicyHint")}</p>
      <div class="guest-policies" role="group" aria-label={t("guestPolicy")}>
        {GUEST_POLICIES.map((policy) => (
          <button
            key={policy}
            value={policy}
            data-policy={policy}
            class={current === policy ? "" : "secondary"}
            aria-pressed={String(current === policy)}
          >
            {t(`policy_${policy}`)}
          </button>
        ))}
      </div>
    </Modal>
  );
}

export function ModeratorTools() {
  const [locking, setLocking] = useState(false);
  const [policing, setPolicing] = useState(false);
  const anyStatus = [...users.value.values()].some((u) => u.hand || u.reaction || u.away);
  const anyHand = [...users.value.values()].some((u) => u.hand);
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
          { key: "clear-statuses", icon: Eraser, label: t("clearAllStatuses"), run: clearAllStatuses },
          anyHand && { key: "lower-hands", icon: ArrowDownToLine, label: t("lowerAllHands"), run: lowerAllHands },
          { key: "guest-policy", icon: UserCheck, label: t("guestPolicyItem"), run: () => setPolicing(true) },
          { key: "save-names", icon: Download, label: t("saveNames"), run: saveNames },
        ]}
      />
      <LockDialog open={locking} onClose={() => setLocking(false)} />
      <GuestPolicyDialog open={policing} onClose={() => setPolicing(false)} />
    </>
  );
}
