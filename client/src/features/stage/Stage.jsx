// The stage: what fills the room between the side panels and the action bar. A screen being
// shared takes it; else a pinned webcam, else the presentation, with the webcams docked beside it
// as the layout says; or the webcams alone in a grid; or, with nothing shared, the people here.
// Only the webcams on screen are received (layouts.js: visibleCameras); the others wait on
// further pages. The meeting's audio mix plays from the hidden <audio> here.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ChevronLeft, ChevronRight, Minimize2, Presentation as PresentationIcon, ScreenShareOff, VideoOff } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { flag, me, users } from "../../core/store.js";
import { narrow, presentationMinimized } from "../../ui/layout.js";
import * as presentationFeature from "../presentation/index.jsx";
import { applySink, prefs } from "./devices.js";
import {
  currentPage, dockSide, layout, otherCameras, page, pages, pageSize, pinned, screenFeed, setOthersCamerasOff,
  othersCamerasOff, visibleCameras,
} from "./layouts.js";
import { mixStream, problems, published, received, unpublish } from "./media.js";
import { Face, MicState, Tile, Video } from "./Tile.jsx";

const ASPECT = 16 / 9;
const GAP = 8;
// BBB's page sizes for others' webcams: phones show 2 a page; larger screens as many as fit.
const PHONE_PAGE = 2;
const DESKTOP_CAP = 12;

/** The presentation feature's component and whether it has something to show. Until that
 * feature exports them, a placeholder stands in and a presentation is assumed (BBB always has
 * the default one). */
function presentationShown() {
  const has = presentationFeature.hasPresentation;
  if (has === undefined) return true;
  return typeof has === "function" ? Boolean(has()) : Boolean(has.value);
}

function PresentationSlot({ hidden = false }) {
  const Component = presentationFeature.Presentation;
  return (
    <div id="presentation-area" class="presentation-slot" hidden={hidden}>
      {Component ? (
        <Component
          actions={
            <button
              type="button"
              id="presentation-minimize"
              class="pres-head-button"
              aria-label={t("hidePresentation")}
              data-tooltip={t("hidePresentation")}
              onClick={() => (presentationMinimized.value = true)}
            >
              <Minimize2 size={18} aria-hidden="true" />
            </button>
          }
        />
      ) : (
        <div class="presentation-placeholder"><PresentationIcon size={40} aria-hidden="true" /><p>{t("presentationComing")}</p></div>
      )}
    </div>
  );
}

function MixAudio() {
  const ref = useRef(null);
  const stream = mixStream.value;
  const speaker = prefs.value.speaker;
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  useEffect(() => applySink(ref.current, speaker), [speaker]);
  return <audio id="audio-out" ref={ref} autoplay />;
}

function MediaStatus() {
  if (problems.value.size === 0) return null;
  return <div id="media-status" class="media-status" role="status">{t("mediaReconnecting")}</div>;
}

/** The best grid for n tiles of 16:9 in a box: the column count giving the largest tiles. */
function bestGrid(n, width, height) {
  let best = { cols: 1, w: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - GAP * (cols - 1)) / cols, ((height - GAP * (rows - 1)) / rows) * ASPECT);
    if (w > best.w) best = { cols, w };
  }
  return best;
}

/** How many tiles fit in the box: a grid of tiles at least minW wide, or a strip along it. */
function capacity(width, height, strip, vertical) {
  const minW = narrow.value ? 140 : 200;
  if (strip && vertical) return Math.max(1, Math.floor((height + GAP) / (Math.max(84, width / ASPECT) + GAP)));
  if (strip) return Math.max(1, Math.floor((width + GAP) / (Math.max(120, Math.min(minW, height * ASPECT)) + GAP)));
  const cols = Math.max(1, Math.floor((width + GAP) / (minW + GAP)));
  const rows = Math.max(1, Math.floor((height + GAP) / (minW / ASPECT + GAP)));
  return cols * rows;
}

/** The width of each of n tiles in a strip: as large as the strip allows. */
function stripTile(n, width, height, vertical) {
  if (vertical) return Math.min(width, ((height - GAP * (n - 1)) / n) * ASPECT);
  return Math.min(height * ASPECT, (width - GAP * (n - 1)) / n);
}

function useSize(ref) {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const box = ref.current;
    if (!box) return undefined;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      setSize((s) => (Math.abs(s.width - width) < 1 && Math.abs(s.height - height) < 1 ? s : { width, height }));
    });
    observer.observe(box);
    return () => observer.disconnect();
  }, []);
  return size;
}

function Pager() {
  const total = pages.value;
  if (total <= 1) return null;
  const at = currentPage.value;
  return (
    <div class="pager" role="group" aria-label={t("pageOf", { page: at + 1, pages: total })}>
      <button type="button" id="cameras-prev" class="pager-button" aria-label={t("previousCameras")} data-tooltip={t("previousCameras")}
        disabled={at === 0} onClick={() => (page.value = Math.max(0, at - 1))}>
        <ChevronLeft size={18} aria-hidden="true" />
      </button>
      <span id="cameras-page" class="pager-label" aria-live="polite">{t("pageOf", { page: at + 1, pages: total })}</span>
      <button type="button" id="cameras-next" class="pager-button" aria-label={t("nextCameras")} data-tooltip={t("nextCameras")}
        disabled={at >= total - 1} onClick={() => (page.value = Math.min(total - 1, at + 1))}>
        <ChevronRight size={18} aria-hidden="true" />
      </button>
    </div>
  );
}

const togglePin = (userId) => () => (pinned.value = pinned.value === userId ? null : userId);

/** My webcam and the visible others', as tiles (the pinned one excepted when it is the main). */
function cameraTiles(skipUser) {
  const mine = published.value.get("camera");
  const tiles = [];
  const self = me.value;
  if (mine && self && layout.value.cameras && skipUser !== self.id) {
    const mirrored = prefs.value.mirror ?? flag("bbb_mirror_own_webcam", false);
    const user = users.value.get(self.id) || self;
    tiles.push(
      <Tile key="self" id="self-camera" user={user} stream={mine.stream} mine mirrored={mirrored} feed={mine.feed}
        pinned={pinned.value === self.id} onPin={togglePin(self.id)} />,
    );
  }
  for (const feed of visibleCameras.value) {
    if (feed.user === skipUser) continue;
    const user = users.value.get(feed.user) || { id: feed.user, name: "" };
    tiles.push(
      <Tile key={feed.id} id={`feed-${feed.id}`} user={user} stream={received.value.get(feed.id)?.stream} feed={feed.id}
        pinned={pinned.value === feed.user} onPin={togglePin(feed.user)} />,
    );
  }
  return tiles;
}

/** The webcams: a grid filling its box, or a strip (dock) along one side of the main view. */
function Cameras({ tiles, strip = false, vertical = false }) {
  const empty = tiles.length === 0;
  const box = useRef(null);
  const { width, height } = useSize(box);
  const selfShown = published.value.has("camera") && layout.value.cameras ? 1 : 0;
  useEffect(() => {
    if (!width || !height) return;
    const fits = narrow.value && !strip ? PHONE_PAGE + selfShown : capacity(width, height, strip, vertical);
    pageSize.value = Math.max(1, Math.min(DESKTOP_CAP, fits) - selfShown);
  }, [width, height, strip, vertical, selfShown, narrow.value]);
  let style;
  if (width && height && tiles.length) {
    const w = strip ? stripTile(tiles.length, width, height, vertical) : bestGrid(tiles.length, width, height).w;
    style = { "--tile-w": `${Math.floor(w)}px` };
  }
  return (
    <div class={`cameras ${strip ? "strip" : "grid"} ${vertical ? "vertical" : ""} ${empty ? "empty" : ""}`}>
      <div id="videos" class="cameras-inner" style={style} ref={box}>{tiles}</div>
      {othersCamerasOff.value && otherCameras.value.length > 0 && (
        <p class="cameras-off">
          <VideoOff size={16} aria-hidden="true" />
          <span>{t("camerasOff")}</span>
          <button type="button" class="link-button" onClick={() => setOthersCamerasOff(false)}>{t("turnCamerasOn")}</button>
        </p>
      )}
      <Pager />
    </div>
  );
}

function ScreenView() {
  const feed = screenFeed.value;
  const user = users.value.get(feed.user) || { id: feed.user, name: "" };
  return (
    <Tile id={`feed-${feed.id}`} kind="screen" user={user} stream={received.value.get(feed.id)?.stream} feed={feed.id} main />
  );
}

function MyScreen() {
  const mine = published.value.get("screen");
  return (
    <div id="self-screen" class="self-screen">
      <Video stream={mine.stream} class="self-screen-preview" />
      <div class="self-screen-bar">
        <span>{t("youShareScreen")}</span>
        <button type="button" class="danger" onClick={() => unpublish("screen")}>
          <ScreenShareOff size={16} aria-hidden="true" />
          {t("stopScreen")}
        </button>
      </div>
    </div>
  );
}

const ROSTER_MAX = 12;

/** Nothing shared: the people in the meeting, so the stage is a room and not a black void. */
function EmptyStage() {
  const everyone = [...users.value.values()];
  const shown = everyone.slice(0, ROSTER_MAX);
  const title = everyone.length <= 1 ? t("emptyTitleOne") : t("emptyTitle", { count: everyone.length });
  return (
    <div class="empty-stage" id="empty-stage">
      <h2 class="empty-title">{title}</h2>
      <ul class="roster" aria-label={t("participants")}>
        {shown.map((u) => (
          <li key={u.id} class="roster-person" data-user={u.id} data-audio={u.audio || "none"} data-talking={String(Boolean(u.talking))}>
            <Face user={u} size={72} />
            <span class="roster-name">
              <MicState user={u} size={13} />
              <span>{u.id === me.value?.id ? `${u.name} (${t("you")})` : u.name}</span>
            </span>
          </li>
        ))}
      </ul>
      {everyone.length > ROSTER_MAX && <p class="roster-more">{t("moreUsers", { count: everyone.length - ROSTER_MAX })}</p>}
      <p class="empty-hint">{t("emptyHint")}</p>
    </div>
  );
}

function RestorePresentation() {
  return (
    <button type="button" id="presentation-restore" class="stage-chip restore" onClick={() => (presentationMinimized.value = false)}>
      <PresentationIcon size={16} aria-hidden="true" />
      <span>{t("showPresentation")}</span>
    </button>
  );
}

/** Where the dock of webcams goes around the main view, per layout. */
function dockPlacement(name) {
  const across = (side) => (narrow.value && (side === "left" || side === "right") ? (side === "left" ? "bottom" : "top") : side);
  if (name === "presentation-focus") return "bottom";
  if (name === "video-focus") return across("left");
  if (name === "custom") return across(dockSide.value);
  // smart: above the presentation while they fit in a row, beside it when there are many.
  return otherCameras.value.length + (published.value.has("camera") ? 1 : 0) > 4 && !narrow.value ? "right" : "top";
}

export function Stage() {
  const l = layout.value;
  const mineScreen = published.value.get("screen");
  const hasPres = l.presentation && presentationShown();
  const minimized = presentationMinimized.value;
  const pinnedUser = pinned.value;
  const pinnedFeed = pinnedUser && l.cameras ? visibleCameras.value.find((f) => f.user === pinnedUser) : null;
  const pinnedMine = pinnedUser && pinnedUser === me.value?.id && published.value.has("camera") && l.cameras;

  let main = null;
  let mainKind = null;
  if (l.presentation && screenFeed.value) [main, mainKind] = [<ScreenView />, "screen"];
  else if (l.presentation && mineScreen) [main, mainKind] = [<MyScreen />, "screen"];
  else if (pinnedFeed) {
    const user = users.value.get(pinnedFeed.user) || { id: pinnedFeed.user, name: "" };
    main = <Tile id={`feed-${pinnedFeed.id}`} user={user} stream={received.value.get(pinnedFeed.id)?.stream} feed={pinnedFeed.id} pinned main onPin={togglePin(pinnedFeed.user)} />;
    mainKind = "camera";
  } else if (pinnedMine) {
    const mine = published.value.get("camera");
    main = <Tile id="self-camera" user={users.value.get(me.value.id) || me.value} stream={mine.stream} mine main pinned
      mirrored={prefs.value.mirror ?? flag("bbb_mirror_own_webcam", false)} feed={mine.feed} onPin={togglePin(me.value.id)} />;
    mainKind = "camera";
  } else if (hasPres && !minimized) [main, mainKind] = [<PresentationSlot />, "presentation"];

  const skip = mainKind === "camera" ? pinnedUser : null;
  const tiles = l.cameras ? cameraTiles(skip) : [];
  const restore = hasPres && minimized && mainKind !== "presentation";

  let body;
  if (l.name === "participants-and-chat-only") body = null;
  else if (main && l.cameras) {
    const side = dockPlacement(l.name);
    const vertical = side === "left" || side === "right";
    body = (
      <div class={`stage-split dock-${side} ${l.name === "video-focus" ? "cameras-lead" : ""}`}>
        <div class="stage-main" data-main={mainKind}>{main}</div>
        <Cameras tiles={tiles} strip={l.name !== "video-focus"} vertical={vertical} />
      </div>
    );
  } else if (main) body = <div class="stage-main only" data-main={mainKind}>{main}</div>;
  else if (tiles.length) body = <Cameras tiles={tiles} />;
  else body = <EmptyStage />;

  return (
    <section class="stage" id="stage" aria-label={t("stageLabel")} data-stage-layout={l.name}>
      <MixAudio />
      <MediaStatus />
      {body}
      {/* Minimised or out of the way, the presentation stays mounted (hidden), as it was. */}
      {hasPres && mainKind !== "presentation" && <PresentationSlot hidden />}
      {restore && <RestorePresentation />}
    </section>
  );
}
