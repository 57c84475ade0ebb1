// BBB's layouts (create's meetingLayout, join's userdata-bbb_default_layout and enforceLayout,
// a moderator's push) and what the stage shows in each, plus the local view state: the camera
// pinned, the page of cameras, data saving.
import { computed, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { t } from "../../core/i18n.js";
import { me, meeting, toast, userdata, users } from "../../core/store.js";
import { presentationMinimized, navOpen, sidePanel, narrow } from "../../ui/layout.js";
import { feeds, published } from "./media.js";
import { forget, recall, recallJson, remember } from "../../core/storage.js";

/**
 * BBB name -> how sala shows it. presentation: the slides (or a screen) are on the stage;
 * cameras: webcams are shown (and received); main: what fills the stage when both are there.
 */
export const LAYOUTS = {
  CUSTOM_LAYOUT: { name: "custom", presentation: true, cameras: true },
  SMART_LAYOUT: { name: "smart", presentation: true, cameras: true },
  PRESENTATION_FOCUS: { name: "presentation-focus", presentation: true, cameras: true },
  VIDEO_FOCUS: { name: "video-focus", presentation: true, cameras: true, minimized: true },
  CAMERAS_ONLY: { name: "cameras-only", presentation: false, cameras: true },
  PRESENTATION_ONLY: { name: "presentation-only", presentation: true, cameras: false },
  PARTICIPANTS_AND_CHAT_ONLY: { name: "participants-and-chat-only", presentation: false, cameras: false },
};
const BY_NAME = Object.fromEntries(Object.entries(LAYOUTS).map(([key, l]) => [l.name, { key, ...l }]));

/** The layout shown now (kebab-case, on the frame's data-layout). */
export const layoutName = signal("smart");
export const layout = computed(() => BY_NAME[layoutName.value] || BY_NAME.smart);

/** Where custom layout puts the webcams around the presentation: top, right, bottom, left. */
export const dockSide = signal(recall("sala-dock") || "top");
export function setDockSide(side) {
  dockSide.value = side;
  remember("sala-dock", side);
}

export function chooseLayout(name, { initial = false } = {}) {
  const chosen = BY_NAME[name] || BY_NAME.smart;
  layoutName.value = chosen.name;
  if (chosen.minimized || (initial && String(userdata.value.bbb_hide_presentation_on_join).toLowerCase() === "true")) {
    presentationMinimized.value = true;
  } else if (!initial) {
    presentationMinimized.value = false;
  }
  if (chosen.name === "participants-and-chat-only") {
    navOpen.value = !narrow.value;
    sidePanel.value = "chat";
  }
}

/** join's enforceLayout (a BBB name) holding this user to one layout, or null. */
export const enforced = signal(null);

const CHOICE_KEY = "sala-layout";

/** The layout this browser's user picked, with the meeting and the pushed layout of then. */
function savedChoice() {
  const saved = recallJson(CHOICE_KEY);
  return saved && BY_NAME[saved.name] ? saved : null;
}

function forgetChoice() {
  forget(CHOICE_KEY);
}

/** The user picks a layout (the picker): shown at once and kept in this browser. */
export function pickLayout(name) {
  if (enforced.value) return;
  chooseLayout(name);
  const saved = { name: layoutName.value, meeting: meeting.value?.id || null, pushed: meeting.value?.pushedLayout || null };
  remember(CHOICE_KEY, JSON.stringify(saved));
}

/** The layout at join: enforceLayout; else a layout a moderator pushed since the user's own
 * choice; else that choice (kept in this browser, for this meeting); else the user's userdata, then the meeting's
 * (BBB's order). */
export function startLayout(m) {
  enforced.value = LAYOUTS[m?.enforceLayout] ? m.enforceLayout : null;
  const pushed = LAYOUTS[meeting.value?.pushedLayout] ? meeting.value.pushedLayout : null;
  const saved = savedChoice();
  // Kept for reloads of this meeting; another meeting starts as its integrator set it.
  const ownStands = saved && saved.meeting === meeting.value?.id && saved.pushed === pushed;
  let name;
  if (enforced.value) name = LAYOUTS[enforced.value].name;
  else if (ownStands) name = saved.name;
  else if (pushed) name = LAYOUTS[pushed].name;
  else {
    const wanted = String(userdata.value.bbb_default_layout || meeting.value?.layout || "").trim().toUpperCase();
    name = LAYOUTS[wanted]?.name || "smart";
  }
  chooseLayout(name, { initial: true });
}

/** The key (BBB name) of the layout shown now. */
export const layoutKey = computed(() => layout.value.key);

/** A moderator puts everybody in the layout they see now (BBB's "push layout"). */
export function pushLayout() {
  send({ type: "layout.push", layout: layoutKey.value });
}

/** layout.pushed: everybody switches to it, except a user held by enforceLayout. */
export function layoutPushed(m) {
  if (!LAYOUTS[m.layout]) return;
  if (meeting.value) meeting.value = { ...meeting.value, pushedLayout: m.layout };
  if (enforced.value) return;
  forgetChoice();
  chooseLayout(LAYOUTS[m.layout].name);
  const title = t(LAYOUT_WORDS[LAYOUTS[m.layout].name]);
  const mine = m.by?.id === me.value?.id;
  toast(mine ? t("layoutPushedByYou", { layout: title }) : t("layoutPushedBy", { name: m.by?.name || "", layout: title }));
}

/** Each layout's name in words.js. */
export const LAYOUT_WORDS = {
  smart: "layoutSmart",
  "presentation-focus": "layoutPresentationFocus",
  "video-focus": "layoutVideoFocus",
  custom: "layoutCustom",
  "cameras-only": "layoutCamerasOnly",
  "presentation-only": "layoutPresentationOnly",
  "participants-and-chat-only": "layoutParticipantsAndChatOnly",
};

/** A webcam pinned to the main area (user id), or null. */
export const pinned = signal(null);
/** The page of others' webcams shown, and how many fit on one (measured by the stage). */
export const page = signal(0);
export const pageSize = signal(4);
/** Data saving: other people's webcams are not received. */
export const othersCamerasOff = signal(recall("sala-data-saver") === "1");
export function setOthersCamerasOff(off) {
  othersCamerasOff.value = off;
  remember("sala-data-saver", off ? "1" : "0");
}

const nameOf = (id) => users.value.get(id)?.name || "";

/** Others' webcams in a stable order: the pinned one first, then by name. */
export const otherCameras = computed(() => {
  const mine = published.value.get("camera")?.feed;
  const list = feeds.value.filter((f) => f.kind === "camera" && f.id !== mine && users.value.get(f.user) !== undefined);
  const first = pinned.value;
  return list.sort(
    (a, b) => (b.user === first) - (a.user === first) || nameOf(a.user).localeCompare(nameOf(b.user)) || a.id - b.id,
  );
});

export const pages = computed(() => Math.max(1, Math.ceil(otherCameras.value.length / Math.max(1, pageSize.value))));
export const currentPage = computed(() => Math.min(page.value, pages.value - 1));

/** The others' webcams on screen now. */
export const visibleCameras = computed(() => {
  if (!layout.value.cameras || othersCamerasOff.value) return [];
  const size = Math.max(1, pageSize.value);
  return otherCameras.value.slice(currentPage.value * size, (currentPage.value + 1) * size);
});

/** The screen being shared (by somebody else), if the layout shows one. */
export const screenFeed = computed(() => {
  if (!layout.value.presentation) return null;
  return feeds.value.find((f) => f.kind === "screen" && f.id !== published.value.get("screen")?.feed) || null;
});

/** Every feed the stage shows: the engine receives these and lets go of the rest. */
export const wantedFeeds = computed(() => [
  ...visibleCameras.value.map((f) => f.id),
  ...(screenFeed.value ? [screenFeed.value.id] : []),
]);
