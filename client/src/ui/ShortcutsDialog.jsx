// The list of keyboard shortcuts, opened from the settings menu as in BBB's client: every bound
// shortcut appears with its label.
import { t } from "../core/i18n.js";
import { bindings } from "../core/shortcuts.js";
import { panels } from "./layout.js";
import { Modal } from "./Modal.jsx";

export function ShortcutsDialog() {
  return (
    <Modal id="shortcuts-dialog" open={panels.shortcuts.value} title={t("shortcuts")} onClose={() => (panels.shortcuts.value = false)}>
      <table class="shortcuts">
        <tbody>
          {bindings.value.map((b) => (
            <tr key={b.combo}>
              <td><kbd>{b.combo.split("+").map((k) => k[0].toUpperCase() + k.slice(1)).join(" + ")}</kbd></td>
              <td>{t(b.labelKey)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
