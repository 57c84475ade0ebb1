// One message: its head (name, time) when it starts a group, the quoted reply, the text (or the
// deleted placeholder, or the inline editor), "(edited)", the reactions, and, while hovered or
// focused, its toolbar: react, reply, and a "more" menu with edit and delete.
import { useRef, useState } from "preact/hooks";
import { EllipsisVertical, Lock, Pencil, Reply, Trash2 } from "lucide-preact";
import { locale, t } from "../../core/i18n.js";
import { me } from "../../core/store.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { Menu } from "../../ui/Menu.jsx";
import { canDelete, canEdit, canReact, canReply, editMessage, startReply, toggleReaction } from "./chat.js";
import { PICKER } from "./EmojiPicker.jsx";
import { MessageEditor } from "./MessageEditor.jsx";
import { ReactionPicker } from "./ReactionPicker.jsx";
import { Reactions } from "./Reactions.jsx";

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

function Quote({ quoted, onJump }) {
  return (
    <button type="button" class="reply-quote" data-reply-to={quoted.id} onClick={() => onJump(quoted.id)}>
      <span class="visually-hidden">{t("inReplyTo", { name: quoted.from?.name || "" })}: </span>
      <strong aria-hidden="true">{quoted.from?.name}</strong>
      <span class={quoted.text ? "reply-text" : "reply-text gone"}>{quoted.text || t("deletedQuote")}</span>
    </button>
  );
}

function Toolbar({ conversationKey, message, onEdit, onDelete, focusComposer }) {
  const react = canReact(conversationKey, message);
  const reply = canReply(conversationKey, message);
  const more = [
    canEdit(conversationKey, message) && { key: "edit", icon: Pencil, label: t("editMessage"), run: onEdit },
    canDelete(message) && { key: "delete", icon: Trash2, label: t("deleteMessage"), danger: true, run: onDelete },
  ].filter(Boolean);
  if (!react && !reply && more.length === 0) return null;
  return (
    <div class="message-actions" role="toolbar" aria-label={t("messageActions")}>
      {react && <ReactionPicker message={message} onPick={(emoji) => toggleReaction(message, emoji)} />}
      {reply && (
        <button
          type="button"
          class="ghost icon-only message-reply"
          aria-label={t("reply")}
          data-tooltip={t("reply")}
          onClick={() => {
            startReply(conversationKey, message);
            focusComposer();
          }}
        >
          <Reply size={16} aria-hidden="true" />
        </button>
      )}
      {more.length > 0 && (
        <Menu
          label={t("moreActions")}
          triggerClass="ghost icon-only message-more"
          floating
          trigger={<EllipsisVertical size={16} aria-hidden="true" />}
          items={more}
        />
      )}
    </div>
  );
}

export function Message({ conversationKey, message, first, peerName, active, onActivate, onJump, onDelete, focusComposer }) {
  const [live, setLive] = useState(false);
  const [editing, setEditing] = useState(false);
  const mine = me.value?.id;
  const privateLabel = message.to
    ? message.to === mine ? t("privateFrom", { name: peerName }) : t("privateTo", { name: peerName })
    : null;
  const self = useRef(null);
  const backToMessage = () => {
    setEditing(false);
    requestAnimationFrame(() => self.current?.focus());
  };
  return (
    <li
      ref={self}
      class={`message ${message.own ? "own" : ""} ${message.to ? "private" : ""} ${first ? "first" : ""} ${message.deleted ? "deleted" : ""}`}
      data-message={message.id}
      tabIndex={active ? 0 : -1}
      onMouseEnter={() => setLive(true)}
      onMouseLeave={(event) => { if (!event.currentTarget.contains(document.activeElement)) setLive(false); }}
      onFocusIn={() => { setLive(true); onActivate(message.id); }}
      onFocusOut={(event) => { if (!event.currentTarget.contains(event.relatedTarget)) setLive(false); }}
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
      {message.replyTo && !message.deleted && <Quote quoted={message.replyTo} onJump={onJump} />}
      {message.deleted ? (
        <p class="message-text message-deleted">{t("messageDeleted")}</p>
      ) : editing ? (
        <MessageEditor
          message={message}
          onCancel={backToMessage}
          onSave={(text) => {
            editMessage(message, text);
            backToMessage();
          }}
        />
      ) : (
        <>
          <Text text={message.text} />
          {message.editedAt && (
            <span class="edited-tag" title={formatTime(message.editedAt)}>{t("edited")}</span>
          )}
        </>
      )}
      {!message.deleted && (
        <Reactions
          message={message}
          enabled={canReact(conversationKey, message)}
          onToggle={(emoji) => toggleReaction(message, emoji)}
        />
      )}
      {live && !editing && !message.deleted && (
        <Toolbar
          conversationKey={conversationKey}
          message={message}
          onEdit={() => setEditing(true)}
          onDelete={() => onDelete(message)}
          focusComposer={focusComposer}
        />
      )}
    </li>
  );
}
