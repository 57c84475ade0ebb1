// Polls as the server runs them (sala/room/polls.py): the poll put to this page, the live
// results the presenter sees, and the last published result everybody sees.
import { signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { isPresenter, on } from "../../core/store.js";

/** The poll waiting for this page's answer: {id, question, answers, multiple, typed} or null. */
export const question = signal(null);
/** Whether the voter put the question aside (it can be opened again). */
export const questionAside = signal(false);
/** The presenter's live results: {id, question, counts, responders, responses, open} or null. */
export const live = signal(null);
/** The presenter's choice of answers for the poll they run ({kind} of the last start). */
export const started = signal(null);
/** The last published result: {poll, question, counts, responders} or null. */
export const published = signal(null);

function ask(poll) {
  if (!poll || isPresenter.value) return;
  question.value = poll;
  questionAside.value = false;
}

on("welcome", (m) => {
  question.value = null;
  if (m.poll) ask(m.poll);
});
on("poll.started", (m) => {
  published.value = null;
  ask(m.poll);
});
on("poll.results", (m) => (live.value = m));
on("poll.answered", (m) => {
  if (question.value?.id === m.poll) question.value = null;
});
on("poll.ended", (m) => {
  if (question.value?.id === m.poll) question.value = null;
  if (live.value?.id === m.poll) live.value = { ...live.value, open: false };
});
on("poll.published", (m) => {
  if (question.value?.id === m.poll) question.value = null;
  if (live.value?.id === m.poll) live.value = { ...live.value, open: false, published: true };
  published.value = m;
});

export function startPoll({ kind, question: text, options, anonymous, multiple }) {
  started.value = { kind };
  send({ type: "poll.start", kind, question: text, options, anonymous, multiple });
}

export function answerPoll(poll, choices, text) {
  send({ type: "poll.answer", poll: poll.id, choices, text, ref: `poll-${poll.id}` });
}

export const stopPoll = () => send({ type: "poll.stop" });
export const publishPoll = () => send({ type: "poll.publish" });
export const newPoll = () => (live.value = null);
