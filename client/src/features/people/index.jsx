// The people feature (owner: user list, per-user menu, moderator tools, lobby, hand/reactions/
// away). STUB: to be replaced by the port.
import { users } from "../../core/store.js";
export function UserList() {
  return <ul id="user-list">{[...users.value.values()].map((u) => <li key={u.id} data-user={u.id}>{u.name}</li>)}</ul>;
}
export function StatusButtons() { return null; }
