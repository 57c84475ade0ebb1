// BBB's layouts as a choice of cards, the webcams' side for the custom layout, and data saving;
// moderators push the layout to everyone; a layout enforced at join cannot be changed here.
import { Columns2, LayoutDashboard, Lock, MessageSquareText, Presentation, Rows2, Send, SquareUserRound, LayoutGrid } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { disabled, isModerator } from "../../core/store.js";
import {
  dockSide, enforced, layoutName, othersCamerasOff, pickLayout, pushLayout, setDockSide, setOthersCamerasOff,
} from "./layouts.js";

const CHOICES = [
  { name: "smart", key: "layoutSmart", icon: LayoutDashboard },
  { name: "presentation-focus", key: "layoutPresentationFocus", icon: Rows2 },
  { name: "video-focus", key: "layoutVideoFocus", icon: SquareUserRound },
  { name: "custom", key: "layoutCustom", icon: Columns2 },
  { name: "cameras-only", key: "layoutCamerasOnly", icon: LayoutGrid },
  { name: "presentation-only", key: "layoutPresentationOnly", icon: Presentation },
  { name: "participants-and-chat-only", key: "layoutParticipantsAndChatOnly", icon: MessageSquareText },
];

export function LayoutPicker() {
  const current = layoutName.value;
  const locked = Boolean(enforced.value);
  return (
    <div class="settings-section">
      {locked && (
        <p id="layout-enforced" class="check-reason">
          <Lock size={16} aria-hidden="true" />
          <span>{t("layoutEnforced")}</span>
        </p>
      )}
      <fieldset class="layout-choices" disabled={locked} aria-describedby={locked ? "layout-enforced" : undefined}>
        <legend class="field-label">{t("layout")}</legend>
        {CHOICES.map((c) => (
          <label key={c.name} class={`layout-choice ${current === c.name ? "current" : ""}`}>
            <input
              type="radio"
              name="layout"
              id={`layout-${c.name}`}
              value={c.name}
              checked={current === c.name}
              onChange={() => pickLayout(c.name)}
            />
            <c.icon size={22} aria-hidden="true" />
            <span class="layout-text">
              <span class="layout-title">{t(c.key)}</span>
              <span class="layout-hint">{t(`${c.key}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {isModerator.value && !disabled("layouts") && (
        <div class="layout-push">
          <button type="button" id="layout-push" class="secondary" onClick={pushLayout} aria-describedby="layout-push-hint">
            <Send size={16} aria-hidden="true" />
            {t("layoutPush")}
          </button>
          <span id="layout-push-hint" class="layout-hint">{t("layoutPushHint")}</span>
        </div>
      )}
      {current === "custom" && (
        <label class="field">
          <span class="field-label">{t("dockSide")}</span>
          <select id="dock-side" value={dockSide.value} onChange={(e) => setDockSide(e.currentTarget.value)}>
            <option value="top">{t("dockTop")}</option>
            <option value="right">{t("dockRight")}</option>
            <option value="bottom">{t("dockBottom")}</option>
            <option value="left">{t("dockLeft")}</option>
          </select>
        </label>
      )}
      <label class="check">
        <input id="data-saver" type="checkbox" checked={othersCamerasOff.value} onChange={(e) => setOthersCamerasOff(e.currentTarget.checked)} />
        <span>
          {t("dataSaver")}
          <span class="layout-hint block">{t("dataSaverHint")}</span>
        </span>
      </label>
    </div>
  );
}
