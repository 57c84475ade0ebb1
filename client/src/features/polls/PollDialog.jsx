// The question put to a voter: a dialog with the answers as radio buttons (or check boxes when
// several may be chosen) or a text field; it can be put aside and opened again while it runs.
// The published result shows as a card on everybody's page until dismissed.
import { useEffect, useState } from "preact/hooks";
import { ChartColumn, Vote, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { Modal } from "../../ui/Modal.jsx";
import { answerText } from "./answers.js";
import { Counts } from "./Counts.jsx";
import { isPresenter } from "../../core/store.js";
import { answerPoll, published, question, questionAside } from "./state.js";

export function PollDialog() {
  const poll = question.value;
  const [chosen, setChosen] = useState([]);
  const [text, setText] = useState("");
  useEffect(() => {
    setChosen([]);
    setText("");
  }, [poll?.id]);
  const ready = poll && (poll.typed ? text.trim().length > 0 : chosen.length > 0);
  const toggle = (n) => {
    if (!poll.multiple) return setChosen([n]);
    setChosen(chosen.includes(n) ? chosen.filter((c) => c !== n) : [...chosen, n]);
  };
  const close = (value) => {
    if (!poll) return;
    if (value === "answer" && ready) {
      answerPoll(poll, poll.typed ? [] : chosen, poll.typed ? text.trim() : undefined);
      question.value = null;
    } else {
      questionAside.value = true;
    }
  };
  return (
    <Modal id="poll-dialog" open={Boolean(poll) && !questionAside.value} title={t("pollTitle")} onClose={close}>
      {poll && (
        <>
          <p id="poll-dialog-question" class="poll-ask">{poll.question || t("pollNoQuestion")}</p>
          {poll.typed ? (
            <label class="field">
              <span class="visually-hidden">{t("pollYourAnswer")}</span>
              <input id="poll-dialog-text" maxLength={100} placeholder={t("pollYourAnswer")} autoFocus
                value={text} onInput={(e) => setText(e.currentTarget.value)}
                onKeyDown={(e) => {
                  // Enter answers (the form's first button would be the dialog's close button).
                  if (e.key !== "Enter") return;
                  e.preventDefault();
                  if (ready) e.currentTarget.form.requestSubmit(e.currentTarget.form.querySelector('button[value="answer"]'));
                }} />
            </label>
          ) : (
            <fieldset id="poll-dialog-answers" class="poll-choices">
              <legend class="visually-hidden">{poll.question || t("pollNoQuestion")}</legend>
              {poll.multiple && <p class="poll-hint">{t("pollChooseSeveral")}</p>}
              {poll.answers.map((key, n) => (
                <label key={n} class={`poll-choice ${chosen.includes(n) ? "chosen" : ""}`}>
                  <input
                    type={poll.multiple ? "checkbox" : "radio"}
                    name="poll-choice"
                    value={String(n)}
                    checked={chosen.includes(n)}
                    autoFocus={n === 0}
                    onChange={() => toggle(n)}
                  />
                  <span>{answerText(key)}</span>
                </label>
              ))}
            </fieldset>
          )}
          <div class="modal-actions">
            <button type="button" class="secondary" onClick={() => (questionAside.value = true)}>{t("pollLater")}</button>
            <button value="answer" disabled={!ready}>{t("pollAnswer")}</button>
          </div>
        </>
      )}
    </Modal>
  );
}

/** The way back to a question put aside. */
export function PollReminder() {
  if (!question.value || !questionAside.value) return null;
  return (
    <button type="button" id="poll-reopen" class="poll-reminder" onClick={() => (questionAside.value = false)}>
      <Vote size={18} aria-hidden="true" /> {t("pollReopen")}
    </button>
  );
}

export function PublishedResult() {
  const result = published.value;
  // The presenter has the result in the polls panel.
  if (!result || isPresenter.value) return null;
  return (
    <section id="poll-result" class="poll-result-card" aria-labelledby="poll-result-title" role="region">
      <header class="poll-result-head">
        <ChartColumn size={18} aria-hidden="true" />
        <h2 id="poll-result-title">{t("pollResults")}</h2>
        <button type="button" class="ghost icon-only" aria-label={t("close")} data-tooltip={t("close")}
          onClick={() => (published.value = null)}>
          <X size={16} aria-hidden="true" />
        </button>
      </header>
      <h3 id="poll-result-question" class="poll-question">{result.question || t("pollNoQuestion")}</h3>
      <Counts id="poll-result-counts" counts={result.counts} responders={result.responders} />
      <p class="poll-note">{t("pollResponders", { count: result.responders })}</p>
    </section>
  );
}
