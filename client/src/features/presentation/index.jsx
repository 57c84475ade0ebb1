// The presentation feature: the slide with its whiteboard (placed by the stage), and the
// presenter's "Manage presentations" dialog in the "+" menu.
//   Presentation     a component that fills the box the stage gives it
//   hasPresentation  true when there is something to show and this page does not hide it
import { FileUp } from "lucide-preact";
import { register, t } from "../../core/i18n.js";
import { isPresenter } from "../../core/store.js";
import { registerAction, registerOverlay } from "../../ui/registry.js";
import { hasPresentation, presentationHidden } from "./state.js";
import { dialogOpen, PresentationsDialog } from "./PresentationsDialog.jsx";
import words from "./words.js";
import "./presentation.css";

register(words);

registerAction({
  key: "presentations",
  order: 10,
  icon: FileUp,
  label: () => t("managePresentations"),
  visible: () => isPresenter.value && !presentationHidden.value,
  run: () => (dialogOpen.value = true),
});
registerOverlay(PresentationsDialog);

export { Presentation } from "./Presentation.jsx";
export { hasPresentation };
