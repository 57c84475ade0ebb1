// One person in the list: avatar, name (and "you"), role and status words, status icons, and
// the menu of what I may do to them.
import { EllipsisVertical, Hand, Headphones, Mic, MicOff, Video, Coffee } from "lucide-preact";
import {
  ArrowDownToLine, Ban, MessageSquare, Presentation, ShieldCheck, ShieldMinus, UserX, VideoOff, Volume2, VolumeX,
} from "lucide-preact";
import { t } from "../../core/i18n.js";
import { me } from "../../core/store.js";
import { Emoji } from "../../ui/Emoji.jsx";
import { Menu } from "../../ui/Menu.jsx";
import { cameraUsers } from "../stage/index.jsx";
import { Avatar } from "./Avatar.jsx";

const ACTION = {
  away: { icon: Coffee, label: "setAway" },
  back: { icon: Coffee, label: "back" },
  chat: { icon: MessageSquare, label: "chatPrivately" },
  lowerHand: { icon: ArrowDownToLine, label: "lowerTheirHand" },
  makePresenter: { icon: Presentation, label: "makePresenter" },
  takePresenter: { icon: Presentation, label: "takePresenter" },
  mute: { icon: VolumeX, label: "muteThem" },
  unmute: { icon: Volume2, label: "unmuteThem" },
  ejectCamera: { icon: VideoOff, label: "ejectCamera" },
  promote: { icon: ShieldCheck, label: "promote" },
  demote: { icon: ShieldMinus, label: "demote" },
  remove: { icon: UserX, label: "remove" },
  removeAndBan: { icon: Ban, label: "removeAndBan" },
};

function Status({ label, tone = "", children }) {
  return (
    <span class={`status-icon ${tone}`} role="img" aria-label={label} title={label}>
      {children}
    </span>
  );
}

function AudioStatus({ user }) {
  if (user.audio === "listen") return <Status label={t("listening")}><Headphones size={16} aria-hidden="true" /></Status>;
  if (user.audio !== "mic") return null;
  if (user.muted) return <Status label={t("micMuted")} tone="muted"><MicOff size={16} aria-hidden="true" /></Status>;
  return (
    <Status label={user.talking ? t("talking") : t("micOn")} tone={user.talking ? "live" : ""}>
      <Mic size={16} aria-hidden="true" />
    </Status>
  );
}

export function UserRow({ user, index, count, top, height, actions }) {
  const mine = me.value && user.id === me.value.id;
  const role = user.role === "MODERATOR" ? t("moderator") : t("viewer");
  const details = [role, user.guest && t("guest"), user.presenter && t("presenter"), user.away && t("isAway")].filter(Boolean);
  return (
    <li
      class={`user-row ${user.away ? "away" : ""}`}
      data-user={user.id}
      data-index={index}
      data-talking={String(Boolean(user.talking))}
      data-audio={user.audio || "none"}
      aria-setsize={count}
      aria-posinset={index + 1}
      style={{ top: `${top}px`, height: `${height}px` }}
    >
      <Avatar user={user} />
      <span class="user-text">
        <span class="user-name">
          <span class="name">{user.name}</span>
          {mine && <span class="you"> ({t("you")})</span>}
        </span>
        <span class="user-details">
          {details.map((d, i) => (
            <span key={d} class={i === 0 && user.role === "MODERATOR" ? "role-mod" : d === t("guest") ? "role-guest" : ""}>{d}</span>
          ))}
        </span>
      </span>
      <span class="user-status">
        {user.reaction && <Status label={t("reactionOf", { emoji: user.reaction })}><Emoji char={user.reaction} size={18} label="" /></Status>}
        {user.hand && <Status label={t("handRaised")} tone="hand"><Hand size={16} aria-hidden="true" /></Status>}
        {user.away && <Status label={t("isAway")}><Coffee size={16} aria-hidden="true" /></Status>}
        {cameraUsers.value.has(user.id) && <Status label={t("cameraOn")}><Video size={16} aria-hidden="true" /></Status>}
        <AudioStatus user={user} />
      </span>
      {actions.length > 0 ? (
        <Menu
          label={t("userActions", { name: user.name })}
          triggerClass="ghost icon-only user-menu-trigger"
          floating
          trigger={<EllipsisVertical size={18} aria-hidden="true" />}
          items={actions.map((a) => ({ key: a.key, icon: ACTION[a.key].icon, label: t(ACTION[a.key].label), danger: a.danger, run: a.run }))}
        />
      ) : (
        <span class="user-menu-space" />
      )}
    </li>
  );
}
