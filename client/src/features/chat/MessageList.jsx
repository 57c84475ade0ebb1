// A conversation's messages: grouped by sender (a name and time over consecutive messages of one
// person within five minutes), mine marked, private ones labelled for screen readers, emoji of
// the room's set drawn with Twemoji, and the list kept at its end unless the reader scrolled up.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ArrowDown, Lock } from "lucide-preact";
import { locale, t } from "../../core/i18n.js";
import { me, meeting } from "../../core/store.js";
import { PUBLIC } from "./chat.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { PICKER } from "./EmojiPicker.jsx";

const GROUP_MS = 5 * 60 * 1000;
const PAGE = 200;
// The emoji we have pictures for, longest first so that ❤️ is not read as ❤ plus a selector.
const KNOWN = new RegExp(`(${[...PICKER].sort((a, b) => b.length - a.length).join("|")})`, "u");

export function formatTime(ts) {
  return new Intl.DateTimeFormat(locale.value, { hour: "2-digit", minute: "2-digit" }).format(new Date(ts));
}

/** The text as text, with the emoji we have pictures for as <Emoji> (never as HTML). */
function Text({ text }) {
  const parts = text.split(KNOWN);
  return (
    <p class="message-text">
      {parts.map((part, i) => (i % 2 ? <Emoji key={i} char={part} size={20} /> : part))}
    </p>
  );
}

function Message({ message, first, peerName }) {
  const mine = me.value?.id;
  const privateLabel = message.to
    ? message.to === mine ? t("privateFrom", { name: peerName }) : t("privateTo", { name: peerName })
    : null;
  return (
    <li
      class={`message ${message.own ? "own" : ""} ${message.to ? "private" : ""} ${first ? "first" : ""}`}
      data-message={message.id}
    >
      {first && (
        <div class="message-head">
          <strong class="sender">{message.from.name}</strong>
          {message.own && <span class="you-tag">{t("you")}</span>}
          {message.to && <Lock size={12} aria-hidden="true" class="private-icon" />}
          <time dateTime={new Date(message.ts).toISOString()}>{formatTime(message.ts)}</time>
        </div>
      )}
      {privateLabel && <span class="visually-hidden">{privateLabel}: </span>}
      {!first && <span class="visually-hidden">{message.from.name}, {formatTime(message.ts)}: </span>}
      <Text text={message.text} />
    </li>
  );
}

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

export function MessageList({ conversation }) {
  const scroller = useRef(null);
  const atEnd = useRef(true);
  const [limit, setLimit] = useState(PAGE);
  const [behind, setBehind] = useState(false);
  const messages = conversation.messages;
  const shown = messages.slice(-limit);
  const last = messages[messages.length - 1];
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
  const peerName = conversation.peer?.name || "";
  return (
    <div class="chat-scroller" ref={scroller} onScroll={onScroll}>
      {messages.length > shown.length && (
        <button type="button" class="ghost earlier" onClick={() => setLimit(limit + PAGE)}>{t("earlier")}</button>
      )}
      {conversation.key === PUBLIC && <WelcomeCard />}
      {messages.length === 0 && <p class="chat-empty">{t("noMessages")}</p>}
      <ol id="chat-log" class="chat-log" role="log" aria-live="polite" aria-labelledby="chat-title">
        {shown.map((message, i) => {
          const before = shown[i - 1];
          const first = !before || before.from.id !== message.from.id || message.ts - before.ts > GROUP_MS;
          return <Message key={message.id} message={message} first={first} peerName={peerName} />;
        })}
      </ol>
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
  );
}
