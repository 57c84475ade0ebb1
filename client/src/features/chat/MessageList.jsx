// A conversation's messages: grouped by sender (a name and time over consecutive messages of one
// person within five minutes), mine marked, private ones labelled for screen readers, and the
// list kept at its end unless the reader scrolled up. The messages are one tab stop: arrows
// move between them, Tab goes into the focused one's toolbar. Deleting asks first.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ArrowDown } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { meeting } from "../../core/store.js";
import { Modal } from "../../ui/Modal.jsx";
import { clearedBy, deleteMessage, PUBLIC } from "./chat.js";
import { formatTime, Message } from "./Message.jsx";
import { TypingIndicator } from "./TypingIndicator.jsx";

export { formatTime };

const GROUP_MS = 5 * 60 * 1000;
const PAGE = 200;
const MOVES = ["ArrowUp", "ArrowDown", "Home", "End"];

/** create's welcome (and moderatorOnlyMessage, for moderators) at the top of the public chat,
 * as BBB shows them. Both are HTML the server sanitised (sala/room/markup.py); this is the one
 * place the room inserts HTML. */
function WelcomeCard() {
  const m = meeting.value;
  if (!m?.welcome && !m?.moderatorOnlyMessage) return null;
  return (
    <div class="welcome-card">
      {m.welcome && <div id="welcome" class="welcome-text" dangerouslySetInnerHTML={{ __html: m.welcome }} />}
      {m.moderatorOnlyMessage && (
        <div id="moderator-message" class="moderator-message" dangerouslySetInnerHTML={{ __html: m.moderatorOnlyMessage }} />
      )}
    </div>
  );
}

function DeleteDialog({ message, onClose }) {
  return (
    <Modal
      id="delete-message-dialog"
      open={Boolean(message)}
      title={t("deleteMessage")}
      onClose={(value) => {
        if (value === "delete" && message) deleteMessage(message);
        onClose();
      }}
    >
      <p>{t("deleteConfirm")}</p>
      {message && <blockquote class="delete-excerpt">{message.text.slice(0, 200)}</blockquote>}
      <footer class="modal-actions">
        <button value="cancel" class="secondary">{t("cancel")}</button>
        <button value="delete" class="danger" id="delete-message-confirm">{t("delete")}</button>
      </footer>
    </Modal>
  );
}

export function MessageList({ conversation, focusComposer }) {
  const scroller = useRef(null);
  const atEnd = useRef(true);
  const [limit, setLimit] = useState(PAGE);
  const [behind, setBehind] = useState(false);
  const [activeId, setActiveId] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const messages = conversation.messages;
  const shown = messages.slice(-limit);
  const last = messages[messages.length - 1];
  const active = shown.some((m) => m.id === activeId) ? activeId : last?.id;
  useLayoutEffect(() => {
    const box = scroller.current;
    if (atEnd.current || last?.own) {
      box.scrollTop = box.scrollHeight;
      setBehind(false);
    } else setBehind(true);
  }, [messages.length]);
  useEffect(() => {
    scroller.current.scrollTop = scroller.current.scrollHeight;
  }, []);
  const onScroll = () => {
    const box = scroller.current;
    atEnd.current = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    if (atEnd.current) setBehind(false);
  };
  const onKeyDown = (event) => {
    if (!MOVES.includes(event.key) || !event.target.matches("li.message")) return;
    event.preventDefault();
    const items = [...scroller.current.querySelectorAll("li.message")];
    const at = items.indexOf(event.target);
    const next = event.key === "Home" ? 0 : event.key === "End" ? items.length - 1
      : Math.max(0, Math.min(items.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    items[next]?.focus();
  };
  /** A reply's quote was clicked: the original comes into view, focused and briefly marked. */
  const jump = (id) => {
    const target = scroller.current.querySelector(`li[data-message="${CSS.escape(id)}"]`);
    if (!target) return;
    target.scrollIntoView({ block: "center", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    target.focus({ preventScroll: true });
    target.classList.add("highlight");
    setTimeout(() => target.classList.remove("highlight"), 1600);
  };
  const peerName = conversation.peer?.name || "";
  const isPublic = conversation.key === PUBLIC;
  return (
    <>
      <div class="chat-scroller" ref={scroller} onScroll={onScroll}>
        {messages.length > shown.length && (
          <button type="button" class="ghost earlier" onClick={() => setLimit(limit + PAGE)}>{t("earlier")}</button>
        )}
        {isPublic && <WelcomeCard />}
        {isPublic && clearedBy.value && (
          <p class="chat-cleared" id="chat-cleared">{t("chatClearedBy", { name: clearedBy.value.name })}</p>
        )}
        {messages.length === 0 && !(isPublic && clearedBy.value) && <p class="chat-empty">{t("noMessages")}</p>}
        {/* The log role goes on a wrapper: on the <ol> it would take the list's role away from it. */}
        <div role="log" aria-live="polite" aria-labelledby="chat-title">
        <ol id="chat-log" class="chat-log" aria-labelledby="chat-title" onKeyDown={onKeyDown}>
          {shown.map((message, i) => {
            const before = shown[i - 1];
            const first = !before || before.from.id !== message.from.id || message.ts - before.ts > GROUP_MS;
            return (
              <Message
                key={message.id}
                conversationKey={conversation.key}
                message={message}
                first={first}
                peerName={peerName}
                active={message.id === active}
                onActivate={setActiveId}
                onJump={jump}
                onDelete={setDeleting}
                focusComposer={focusComposer}
              />
            );
          })}
        </ol>
        </div>
        {behind && (
          <button
            type="button"
            class="jump-latest"
            onClick={() => {
              scroller.current.scrollTop = scroller.current.scrollHeight;
              setBehind(false);
            }}
          >
            <ArrowDown size={16} aria-hidden="true" />
            {t("newMessages")}
          </button>
        )}
      </div>
      <TypingIndicator conversationKey={conversation.key} />
      <DeleteDialog message={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}
