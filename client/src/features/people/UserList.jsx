// The participants part of the navigation: the header with the count and the moderators'
// tools, the waiting room, the search box and the (virtualised) list of people.
import { Search, X } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { isModerator, lobby, lockedForMe, users } from "../../core/store.js";
import { openPrivateChat } from "../chat/index.jsx";
import { ModeratorTools } from "./ModeratorTools.jsx";
import { search, shownUsers, userActions } from "./people.js";
import { UserRow } from "./UserRow.jsx";
import { VirtualList } from "./VirtualList.jsx";
import { WaitingRoom } from "./WaitingRoom.jsx";

const ROW = 56;

function SearchBox() {
  return (
    <div class="people-search">
      <Search size={16} aria-hidden="true" class="search-icon" />
      <input
        id="user-search"
        type="search"
        placeholder={t("searchPeople")}
        aria-label={t("searchPeople")}
        value={search.value}
        onInput={(event) => (search.value = event.currentTarget.value)}
        onKeyDown={(event) => { if (event.key === "Escape" && search.value) { event.stopPropagation(); search.value = ""; } }}
      />
      {search.value && (
        <button type="button" class="ghost icon-only clear-search" aria-label={t("close")} onClick={() => (search.value = "")}>
          <X size={14} aria-hidden="true" />
        </button>
      )}
    </div>
  );
}

export function UserList() {
  const list = shownUsers.value;
  const items = list.map((user) => {
    const actions = userActions(user, { openChat: openPrivateChat });
    return { value: { user, actions }, focusable: actions.length > 0 };
  });
  return (
    <section class="people" aria-labelledby="people-title">
      <header class="people-head">
        <h2 id="people-title">{t("participants")}</h2>
        <span id="user-count" class="count-pill">{users.value.size}</span>
        <span class="spacer" />
        {isModerator.value && <ModeratorTools />}
      </header>
      {isModerator.value && lobby.value.length > 0 && <WaitingRoom />}
      {lockedForMe("hideUserList") && <p class="people-note">{t("onlyModeratorsShown")}</p>}
      <SearchBox />
      {list.length === 0 && search.value && <p class="people-note" role="status">{t("noMatch", { query: search.value })}</p>}
      <VirtualList
        id="user-list"
        class="user-scroller"
        label={t("participants")}
        items={items}
        rowHeight={ROW}
        focusSelector=".user-menu-trigger"
        renderRow={({ user, actions }, index, top) => (
          <UserRow key={user.id} user={user} index={index} count={items.length} top={top} height={ROW} actions={actions} />
        )}
      />
    </section>
  );
}
