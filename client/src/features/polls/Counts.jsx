// A poll's counts as bars: one row per answer with its votes and share of those who answered.
import { t } from "../../core/i18n.js";
import { answerText } from "./answers.js";

export function Counts({ id, counts, responders }) {
  const total = Math.max(1, responders || 0);
  const most = Math.max(0, ...counts.map((c) => c.votes));
  return (
    <ol id={id} class="poll-bars">
      {counts.map((c) => {
        const pct = Math.round((100 * c.votes) / total);
        return (
          <li key={c.key} data-votes={String(c.votes)} class={c.votes === most && most > 0 ? "leading" : ""}>
            <div class="poll-bar-line">
              <span class="poll-bar-label">{answerText(c.key)}</span>
              <span class="poll-bar-figure">{t("pollVotes", { votes: c.votes, pct })}</span>
            </div>
            <div class="poll-meter" aria-hidden="true"><span style={{ width: `${(100 * c.votes) / total}%` }} /></div>
          </li>
        );
      })}
    </ol>
  );
}
