// The left navigation as BBB users know it: entries for the side panels (with unread badges),
// then the user list; and the open side panel beside it.
import { t } from "../core/i18n.js";
import { navOpen, sidePanel, togglePanel } from "./layout.js";
import { sidePanels } from "./registry.js";
import { UserList } from "../features/people/index.jsx";

export function NavPanel() {
  const entries = sidePanels.value.filter((p) => !p.visible || p.visible());
  return (
    <nav class="nav-panel" id="nav-panel" aria-label={t("navigation")} hidden={!navOpen.value}>
      <ul class="panel-entries">
        {entries.map((p) => {
          const badge = p.badge ? p.badge() : 0;
          return (
            <li key={p.id}>
              <button
                type="button"
                id={`open-${p.id}`}
                class={`nav-entry ${sidePanel.value === p.id ? "current" : ""}`}
                aria-pressed={String(sidePanel.value === p.id)}
                aria-controls={`panel-${p.id}`}
                onClick={() => togglePanel(p.id)}
              >
                <p.icon size={18} aria-hidden="true" />
                <span>{p.label()}</span>
                {badge > 0 && <span class="badge" aria-label={t("unread", { count: badge })}>{badge}</span>}
              </button>
            </li>
          );
        })}
      </ul>
      <UserList />
    </nav>
  );
}

export function SidePanel() {
  const panel = sidePanels.value.find((p) => p.id === sidePanel.value && (!p.visible || p.visible()));
  // Panels stay mounted while closed so that their state (a half-typed message, the notes'
  // document) survives; only the open one is visible.
  return (
    <>
      {sidePanels.value.map((p) => (
        <section
          key={p.id}
          id={`panel-${p.id}`}
          class="side-panel"
          aria-label={p.label()}
          hidden={p !== panel}
        >
          <p.component />
        </section>
      ))}
    </>
  );
}
