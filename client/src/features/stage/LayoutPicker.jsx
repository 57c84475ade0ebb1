// BBB's layouts as a choice of cards, the webcams' side for the custom layout, and data saving.
import { Columns2, LayoutDashboard, MessageSquareText, Presentation, Rows2, SquareUserRound, LayoutGrid } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { chooseLayout, dockSide, layoutName, othersCamerasOff, setDockSide, setOthersCamerasOff } from "./layouts.js";

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
  return (
    <div class="settings-section">
      <fieldset class="layout-choices">
        <legend class="field-label">{t("layout")}</legend>
        {CHOICES.map((c) => (
          <label key={c.name} class={`layout-choice ${current === c.name ? "current" : ""}`}>
            <input
              type="radio"
              name="layout"
              id={`layout-${c.name}`}
              value={c.name}
              checked={current === c.name}
              onChange={() => chooseLayout(c.name)}
            />
            <c.icon size={22} aria-hidden="true" />
            <span class="layout-text">
              <span class="layout-title">{t(c.key)}</span>
              <span class="layout-hint">{t(`${c.key}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
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
