// The presenter's polls panel: ask (yes/no, true/false, A–D, one's own options or a typed
// answer; anonymous, several answers), then watch the answers come in, publish or end the poll.
import { useState } from "preact/hooks";
import { Check, CircleStop, Megaphone, Plus, RotateCcw, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { users } from "../../core/store.js";
import { sidePanel } from "../../ui/layout.js";
import { Counts } from "./Counts.jsx";
import { live, newPoll, publishPoll, startPoll, stopPoll } from "./state.js";

const KINDS = [
  { id: "YN", label: "pollYesNo" },
  { id: "TF", label: "pollTrueFalse" },
  { id: "ABCD", label: "pollAbcd" },
  { id: "custom", label: "pollCustom" },
  { id: "response", label: "pollTyped" },
];
const MAX_OPTIONS = 10;

function PollForm() {
  const [kind, setKind] = useState("YN");
  const [text, setText] = useState("");
  const [options, setOptions] = useState(["", ""]);
  const [anonymous, setAnonymous] = useState(false);
  const [multiple, setMultiple] = useState(false);
  const filled = options.map((o) => o.trim()).filter(Boolean);
  const ready = kind !== "custom" || filled.length >= 2;
  const submit = (event) => {
    event.preventDefault();
    if (!ready) return;
    startPoll({
      kind, question: text.trim(), options: kind === "custom" ? filled : [], anonymous,
      multiple: kind !== "response" && kind !== "YN" && kind !== "TF" && multiple,
    });
  };
  return (
    <form id="poll-form" class="poll-form" onSubmit={submit}>
      <label class="field" for="poll-question">
        <span class="field-label">{t("pollQuestion")}</span>
        <textarea id="poll-question" rows={2} maxLength={300} placeholder={t("pollQuestionHint")}
          value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <fieldset class="field">
        <legend class="field-label">{t("pollKind")}</legend>
        <div class="poll-kinds" role="radiogroup" aria-label={t("pollKind")}>
          {KINDS.map((k) => (
            <label key={k.id} class={`poll-kind ${kind === k.id ? "chosen" : ""}`}>
              <input type="radio" name="poll-kind" value={k.id} checked={kind === k.id} onChange={() => setKind(k.id)} />
              <span>{t(k.label)}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {kind === "custom" && (
        <fieldset class="field" id="poll-options">
          <legend class="field-label">{t("pollOptionsTitle")}</legend>
          <ol class="poll-options">
            {options.map((value, i) => (
              <li key={i}>
                <input
                  class="poll-option"
                  maxLength={100}
                  aria-label={t("pollOptionN", { n: i + 1 })}
                  placeholder={t("pollOptionN", { n: i + 1 })}
                  value={value}
                  onInput={(e) => setOptions(options.map((o, j) => (j === i ? e.currentTarget.value : o)))}
                />
                {options.length > 2 && (
                  <button type="button" class="ghost icon-only" aria-label={t("pollRemoveOption", { n: i + 1 })}
                    data-tooltip={t("pollRemoveOption", { n: i + 1 })}
                    onClick={() => setOptions(options.filter((_, j) => j !== i))}>
                    <X size={16} aria-hidden="true" />
                  </button>
                )}
              </li>
            ))}
          </ol>
          {options.length < MAX_OPTIONS && (
            <button type="button" class="ghost" id="poll-add-option" onClick={() => setOptions([...options, ""])}>
              <Plus size={16} aria-hidden="true" /> {t("pollAddOption")}
            </button>
          )}
        </fieldset>
      )}
      <div class="poll-switches">
        <label class="switch">
          <input id="poll-anonymous" type="checkbox" role="switch" checked={anonymous} onChange={(e) => setAnonymous(e.currentTarget.checked)} />
          <span>{t("pollAnonymous")}</span>
        </label>
        {(kind === "ABCD" || kind === "custom") && (
          <label class="switch">
            <input id="poll-multiple" type="checkbox" role="switch" checked={multiple} onChange={(e) => setMultiple(e.currentTarget.checked)} />
            <span>{t("pollMultiple")}</span>
          </label>
        )}
      </div>
      <button type="submit" class="poll-start" disabled={!ready}>{t("pollStart")}</button>
    </form>
  );
}

function LiveResults() {
  const poll = live.value;
  const others = Math.max(0, users.value.size - 1);
  return (
    <section id="poll-live" class="poll-live" aria-live="polite">
      <div class="poll-live-head">
        <span class={`poll-state ${poll.open ? "open" : "closed"}`}>
          {poll.published ? t("pollPublished") : poll.open ? t("pollRunning") : t("pollEnded")}
        </span>
        <span class="poll-responders" id="poll-responders">{t("pollAnswered", { count: poll.responders, total: others })}</span>
      </div>
      <h3 id="poll-live-question" class="poll-question">{poll.question || t("pollNoQuestion")}</h3>
      <Counts id="poll-live-counts" counts={poll.counts} responders={poll.responders} />
      {poll.responses.length > 0 && (
        <details class="poll-who" open>
          <summary>{t("pollWho")}</summary>
          <ul id="poll-live-responses" class="poll-responses">
            {poll.responses.map((r, i) => (
              <li key={i}><span class="who">{r.name}</span><span class="what">{r.answer}</span></li>
            ))}
          </ul>
        </details>
      )}
      <div class="poll-actions">
        {!poll.published && (
          <button type="button" id="poll-publish" onClick={publishPoll}>
            <Megaphone size={16} aria-hidden="true" /> {t("pollPublish")}
          </button>
        )}
        {poll.open && (
          <button type="button" id="poll-stop" class="secondary" onClick={stopPoll}>
            <CircleStop size={16} aria-hidden="true" /> {t("pollStop")}
          </button>
        )}
        {!poll.open && (
          <button type="button" id="poll-new" class="secondary" onClick={newPoll}>
            <RotateCcw size={16} aria-hidden="true" /> {t("pollNew")}
          </button>
        )}
      </div>
      {poll.published && <p class="poll-note"><Check size={14} aria-hidden="true" /> {t("pollPublishedNote")}</p>}
    </section>
  );
}

export function PollsPanel() {
  return (
    <>
      <header class="panel-head">
        <h2>{t("polls")}</h2>
        <span class="spacer" />
        <button type="button" class="ghost icon-only" aria-label={t("close")} data-tooltip={t("close")}
          onClick={() => (sidePanel.value = null)}>
          <X size={18} aria-hidden="true" />
        </button>
      </header>
      <div class="panel-body polls-body">
        {live.value ? <LiveResults /> : <PollForm />}
      </div>
    </>
  );
}
