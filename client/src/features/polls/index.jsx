// The polls feature: the presenter's "polls" side panel, the question dialog for everybody
// else, and the published result.
//   answerText(key)  a poll answer as this page says it (BBB's preset keys translated)
import { ChartColumn } from "lucide-preact";
import { register, t } from "../../core/i18n.js";
import { disabled, isPresenter, meeting } from "../../core/store.js";
import { registerOverlay, registerPanel } from "../../ui/registry.js";
import { PollsPanel } from "./PollsPanel.jsx";
import { PollDialog, PollReminder, PublishedResult } from "./PollDialog.jsx";
import words from "./words.js";
import "./polls.css";

register(words);

registerPanel({
  id: "polls",
  order: 30,
  icon: ChartColumn,
  label: () => t("polls"),
  visible: () => isPresenter.value && !(meeting.value && disabled("polls")),
  component: PollsPanel,
});
registerOverlay(PollDialog);
registerOverlay(PollReminder);
registerOverlay(PublishedResult);

export { answerText } from "./answers.js";
