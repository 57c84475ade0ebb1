// A person's picture: their avatar URL, else their initials on a colour made from their id.
// Moderators' avatars are rounded squares, as in BBB; a ring shows who is talking and a small
// badge who presents. The initials are drawn by CSS (data-initials), so that they are not part
// of the text of the row or the navigation entry the avatar sits in.
import { useState } from "preact/hooks";
import { Presentation } from "lucide-preact";
import { avatarColour, initials } from "./identity.js";

export function Avatar({ user, size = 36 }) {
  const [broken, setBroken] = useState(false);
  const picture = user.avatar && !broken;
  const style = { width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.38)}px` };
  if (!picture) style.background = avatarColour(user.id);
  return (
    <span
      class={`avatar ${user.role === "MODERATOR" ? "moderator" : ""} ${user.talking ? "talking" : ""}`}
      style={style}
      aria-hidden="true"
      data-initials={picture ? undefined : initials(user.name)}
    >
      {picture && <img src={user.avatar} alt="" onError={() => setBroken(true)} />}
      {user.presenter && (
        <span class="presenter-badge"><Presentation size={11} strokeWidth={2.5} /></span>
      )}
    </span>
  );
}
