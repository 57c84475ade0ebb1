// The bar along the bottom: the presenter's "+" menu on the left, audio, camera and screen in
// the middle, hand, reactions and status on the right.
import { Plus, Users } from "lucide-preact";
import { t } from "../core/i18n.js";
import { actions } from "./registry.js";
import { navOpen } from "./layout.js";
import { Menu } from "./Menu.jsx";
import { MediaButtons } from "../features/stage/index.jsx";
import { StatusButtons } from "../features/people/index.jsx";

export function ActionBar() {
  const items = actions.value.filter((a) => !a.visible || a.visible());
  return (
    <footer class="actionbar" aria-label={t("actions")}>
      <div class="actionbar-start">
        <button
          type="button"
          id="toggle-nav"
          class="icon-button"
          aria-label={t("participants")}
          data-tooltip={t("participants")}
          aria-pressed={String(navOpen.value)}
          aria-controls="nav-panel"
          onClick={() => (navOpen.value = !navOpen.value)}
        >
          <Users size={20} aria-hidden="true" />
        </button>
        {items.length > 0 && (
          <Menu
            id="actions-menu"
            label={t("actionsMenu")}
            align="start"
            triggerClass="icon-button primary"
            trigger={<Plus size={20} aria-hidden="true" />}
            items={items.map((a) => ({ key: a.key, icon: a.icon, label: a.label(), run: a.run }))}
          />
        )}
      </div>
      <div class="actionbar-center">
        <MediaButtons />
      </div>
      <div class="actionbar-end">
        <StatusButtons />
      </div>
    </footer>
  );
}
