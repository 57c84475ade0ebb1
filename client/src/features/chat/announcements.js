// Messages that arrive in a conversation not on screen, said to screen readers (and, for a
// private one, shown as a toast): the name and the text, or when several arrive within a second,
// one sentence for all of them, so that a busy chat does not flood the live region.
import { t } from "../../core/i18n.js";
import { announce, me, on, toast } from "../../core/store.js";
import { PUBLIC, visibleConversation } from "./chat.js";

const BATCH_MS = 1000;
const EXCERPT = 120;
let pending = [];
let timer = null;

function excerpt(text) {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
}

function flush() {
  timer = null;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  const privately = batch.some((m) => m.private);
  if (batch.length === 1) {
    const [one] = batch;
    const words = { name: one.name, text: excerpt(one.text) };
    if (privately) toast(t("newPrivateMessageText", words));
    else announce(t("newPublicMessage", words));
    return;
  }
  const names = [...new Set(batch.map((m) => m.name))].join(", ");
  const words = { count: batch.length, names };
  if (privately) toast(t("newMessagesPrivate", words));
  else announce(t("newMessagesPublic", words));
}

on("chat.message", (m) => {
  if (m.from.id && m.from.id === me.value?.id) return;
  const key = m.to ? m.from.id : PUBLIC;
  // The conversation on screen has its own live log, which reads the message.
  if (visibleConversation.value === key) return;
  pending.push({ name: m.from.name, text: m.text, private: Boolean(m.to) });
  if (!timer) timer = setTimeout(flush, BATCH_MS);
});
// A reconnection's history is not news.
on("welcome", () => {
  pending = [];
});
