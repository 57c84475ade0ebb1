// The people feature: the user list in the navigation (avatars, statuses, the per-user menu,
// search, a windowed list for big classes), the moderators' tools and waiting room, and my own
// status buttons in the action bar (hand, reactions, away).
import { register } from "../../core/i18n.js";
import { bind } from "../../core/shortcuts.js";
import { flag, on } from "../../core/store.js";
import { navOpen } from "../../ui/layout.js";
import words from "./words.js";
import { toggleHand } from "./StatusButtons.jsx";
import "./people.css";

register(words);

export { UserList } from "./UserList.jsx";
export { StatusButtons } from "./StatusButtons.jsx";
export { Avatar } from "./Avatar.jsx";

// userdata-bbb_show_participants_on_login=false starts the page with the list closed; a
// reconnection keeps what the user chose since.
let started = false;
on("welcome", () => {
  if (!started && !flag("bbb_show_participants_on_login", true)) navOpen.value = false;
  started = true;
});

bind("alt+shift+r", "raiseHand", toggleHand);
