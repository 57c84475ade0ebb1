// Who is typing in this conversation, under its messages: one name, two, or "several people".
import { t } from "../../core/i18n.js";
import { typing } from "./chat.js";

export function TypingIndicator({ conversationKey }) {
  const list = typing.value.get(conversationKey) || [];
  let text = "";
  if (list.length === 1) text = t("typingOne", { name: list[0].name });
  else if (list.length === 2) text = t("typingTwo", { a: list[0].name, b: list[1].name });
  else if (list.length > 2) text = t("typingMany");
  // Shown, not announced: a live region saying this every two seconds would drown the chat.
  return <p class="typing-indicator" id="typing-indicator" aria-hidden={text ? undefined : "true"}>{text}</p>;
}
