// The room page: one WebSocket to sala (docs/protocol.md), the DOM built from what it says.
// Text from people (names, chat) is only ever written with textContent; the welcome message
// is HTML the server has already sanitized.
import { pick, translator } from "./i18n.js";
import { createMedia } from "./media.js";
import { createNotes } from "./notes.js";
import { SVG, shapeElement } from "./shapes.js";

const $ = (id) => document.getElementById(id);
const REACTIONS = ["👍", "👏", "😂", "😮", "❤️", "🎉", "🤔", "☕"];
const state = { me: null, users: new Map(), locks: {}, meeting: null, lobby: [], final: false, presentations: [], currentPresentation: null, annotations: {}, multiUserWhiteboard: false, started: false, presentationMinimized: false };
let t = translator(pick(null, navigator.languages));
let socket = null;
let retry = 0;
let pingTimer = null;
const media = createMedia({
  send: (message) => send(message),
  t: (key) => t(key),
  toast: (text) => toast(text),
  state,
  el: (id) => $(id),
  render: () => renderMedia(),
});
window.salaMedia = media;
const notes = createNotes({
  send: (message) => send(message),
  el: (id) => $(id),
  canEdit: () => Boolean(state.me) && !(state.me.role === "VIEWER" && state.locks.disableNotes),
  canReset: () => state.me?.role === "MODERATOR",
});
window.salaNotes = notes;

function applyTranslations() {
  document.documentElement.lang = t === null ? "en" : document.documentElement.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll("[data-i18n-aria]"))
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

function setLocale(explicit) {
  const locale = pick(explicit, navigator.languages);
  t = translator(locale);
  document.documentElement.lang = locale;
  applyTranslations();
}

function notice(key, link) {
  $("notice").hidden = false;
  $("notice-text").textContent = t(key);
  const a = $("notice-link");
  a.hidden = !link;
  if (link) {
    a.href = link;
    a.textContent = t("goOn");
  }
}

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 4000);
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/room/ws`);
  socket.onopen = () => {
    retry = 0;
    send({ type: "hello", version: 1 });
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping" }), 20000);
  };
  socket.onmessage = (event) => handle(JSON.parse(event.data));
  socket.onclose = (event) => {
    clearInterval(pingTimer);
    if (state.final) return;
    if (event.code === 4401) return notice("loggedOut");
    if (event.code === 4409) return notice("replaced"); // a newer tab took over: do not fight it
    if ([4403, 4410].includes(event.code)) return;
    notice("reconnecting");
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 250 * 2 ** retry);
  };
}

function finish(key, logoutUrl) {
  state.final = true;
  $("room").hidden = true;
  notice(key, logoutUrl);
  if (logoutUrl) setTimeout(() => (location.href = logoutUrl), 5000);
}

function handle(m) {
  if (media.handle(m)) return undefined;
  switch (m.type) {
    case "welcome": return welcome(m);
    case "lobby.waiting":
      setLocale(m.locale);
      $("meeting-name").textContent = m.meeting.name;
      return notice("lobbyWaiting");
    case "lobby.message": return toast(m.text);
    case "guest.denied": return finish("denied", m.logoutUrl);
    case "removed": return finish("removed", m.logoutUrl);
    case "meeting.ended": media.leaveAll(); return finish("ended", m.logoutUrl);
    case "user.joined":
    case "user.updated":
      state.users.set(m.user.id, m.user);
      if (state.me && m.user.id === state.me.id) {
        const wasPresenter = state.me.presenter;
        state.me = m.user;
        media.applyMute();
        if (wasPresenter && !m.user.presenter) media.unpublish("screen", false);
        if (wasPresenter !== m.user.presenter) renderPresentation();
      }
      return renderUsers();
    case "user.talking": {
      const user = state.users.get(m.user);
      if (user) user.talking = m.talking;
      const li = document.querySelector(`#user-list li[data-user="${CSS.escape(m.user)}"]`);
      if (li) li.dataset.talking = String(m.talking);
      return undefined;
    }
    case "user.left":
      state.users.delete(m.user);
      return renderUsers();
    case "chat.message": return addChat(m);
    case "locks.updated":
      state.locks = m.locks;
      return renderLocks();
    case "lobby.updated":
      state.lobby = m.waiting;
      return renderLobby();
    case "presentation.updated":
      state.presentations = m.presentations;
      state.currentPresentation = m.current;
      state.annotations = m.annotations || {};
      state.multiUserWhiteboard = Boolean(m.multiUserWhiteboard);
      state.view = m.view || WHOLE;
      return renderPresentation();
    case "presentation.progress": {
      const converting = state.presentations.find((d) => d.id === m.presentation);
      if (converting) converting.progress = { done: m.done, total: m.total };
      return renderPresentation();
    }
    case "presentation.page": {
      const shown = state.presentations.find((d) => d.id === m.presentation);
      if (shown) shown.page = m.page;
      state.view = WHOLE;
      return renderPresentation();
    }
    case "draw.added":
      if (m.presentation === state.currentPresentation) {
        const shapes = (state.annotations[m.page] ||= []);
        if (!shapes.some((x) => x.id === m.shape.id)) shapes.push(m.shape);
        renderAnnotations();
      }
      return undefined;
    case "draw.removed":
      if (m.presentation === state.currentPresentation && state.annotations[m.page]) {
        state.annotations[m.page] = state.annotations[m.page].filter((x) => !m.ids.includes(x.id));
        renderAnnotations();
      }
      return undefined;
    case "presentation.zoom":
      state.view = { x: m.x, y: m.y, w: m.w, h: m.h };
      return applyView();
    case "whiteboard.multi":
      state.multiUserWhiteboard = m.enabled;
      return renderPresentation();
    case "recording.updated":
      if (state.meeting) state.meeting.recording = m.recording;
      toast(t(m.recording ? "recordingStarted" : "recordingStopped", { name: m.by }));
      if (!m.recording || m.by !== state.me?.name) noticeRecording();
      return renderRecording();
    case "notes.update": return notes.update(m.update, m.generation);
    case "notes.state": return notes.state(m.update, m.generation);
    case "notes.reset":
      notes.reset(m.update, m.generation);
      return toast(t("notesWereReset", { name: m.by }));
    case "poll.started": return showPoll(m.poll);
    case "poll.results": return renderPollResults(m);
    case "poll.ended":
      if ($("poll-dialog").open) $("poll-dialog").close("cancel");
      return undefined;
    case "poll.published":
      if ($("poll-dialog").open) $("poll-dialog").close("cancel");
      $("poll-live").hidden = true;
      return renderCounts($("poll-result"), $("poll-result-question"), $("poll-result-counts"), m);
    case "error":
      if (m.ref?.startsWith("notes-") && m.ref !== "notes-sync") notes.refused();
      return toast(m.message);
    default: return undefined;
  }
}

function welcome(m) {
  setLocale(m.locale);
  state.me = m.you;
  state.meeting = m.meeting;
  state.locks = m.locks;
  state.lobby = m.lobby;
  state.users = new Map(m.users.map((u) => [u.id, u]));
  state.userdata = m.userdata || {};
  $("notice").hidden = true;
  $("room").hidden = false;
  document.title = m.meeting.name;
  $("meeting-name").textContent = m.meeting.name;
  $("welcome").innerHTML = m.meeting.welcome; // sanitized by the server
  const modMessage = $("moderator-message");
  modMessage.hidden = !m.meeting.moderatorOnlyMessage;
  modMessage.innerHTML = m.meeting.moderatorOnlyMessage || "";
  renderBranding(m.meeting);
  applyUserdata(m.userdata || {});
  // How the page starts is decided once: a reconnection or a new role keeps what the user chose.
  if (!state.started) startView(m.userdata || {}, m.meeting);
  state.started = true;
  $("chat-log").replaceChildren();
  for (const item of m.chat) addChat(item);
  renderUsers();
  renderLocks();
  renderLobby();
  state.presentations = m.presentations || [];
  state.currentPresentation = m.current || null;
  state.annotations = m.annotations || {};
  state.multiUserWhiteboard = Boolean(m.multiUserWhiteboard);
  state.view = m.view || WHOLE;
  renderPresentation();
  if (m.poll) showPoll(m.poll);
  noticeRecording();
  notes.welcome(m.notes ?? null, m.notesGeneration ?? 0);
  media.welcome(m);
}

// ----------------------------------------------------------------------------- polls --
let openPoll = null;
// BBB's preset answers are keys (Yes, No, True, False); each page shows them in its language.
const PRESET_KEYS = ["Yes", "No", "True", "False"];
const answerText = (key) => (PRESET_KEYS.includes(key) ? t(`poll${key}`) : key);

function showPoll(poll) {
  if (!poll || state.me?.presenter) return;
  openPoll = poll;
  $("poll-dialog-question").textContent = poll.question || t("pollNoQuestion");
  const answers = $("poll-dialog-answers");
  answers.replaceChildren();
  for (const [n, key] of poll.answers.entries()) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = poll.multiple ? "checkbox" : "radio";
    input.name = "poll-choice";
    input.value = String(n);
    label.append(input, ` ${answerText(key)}`);
    answers.append(label);
  }
  $("poll-dialog-text").hidden = !poll.typed;
  $("poll-dialog-text").value = "";
  $("poll-dialog").showModal();
}

function renderCounts(section, title, list, poll) {
  section.hidden = false;
  title.textContent = poll.question || t("pollNoQuestion");
  const total = Math.max(1, poll.responders || 0);
  list.replaceChildren(...poll.counts.map((c) => {
    const li = document.createElement("li");
    li.textContent = `${answerText(c.key)}: ${c.votes} (${Math.round((100 * c.votes) / total)}%)`;
    li.dataset.votes = String(c.votes);
    return li;
  }));
}

function renderPollResults(m) {
  $("poll-live").hidden = false;
  renderCounts($("poll-live"), $("poll-live-question"), $("poll-live-counts"), m);
  $("poll-live-responses").replaceChildren(...m.responses.map((r) => {
    const li = document.createElement("li");
    li.textContent = `${r.name}: ${r.answer}`;
    return li;
  }));
}

// --------------------------------------------------------------------------- zoom --
const WHOLE = { x: 0, y: 0, w: 1, h: 1 };

// The presenter's view: the part of the slide (x, y, w, h in fractions) everybody sees.
function applyView() {
  const v = state.view || WHOLE;
  $("slide-view").style.transform = `scale(${1 / v.w}, ${1 / v.h}) translate(${-v.x * 100}%, ${-v.y * 100}%)`;
  $("slide-view").dataset.view = [v.x, v.y, v.w, v.h].join(",");
}

function zoomBy(factor) {
  const v = state.view || WHOLE;
  const w = Math.min(1, Math.max(0.1, v.w * factor));
  const h = Math.min(1, Math.max(0.1, v.h * factor));
  const cx = v.x + v.w / 2;
  const cy = v.y + v.h / 2;
  sendView({ x: cx - w / 2, y: cy - h / 2, w, h });
}

function sendView(v) {
  const clamp = (value, size) => Math.min(Math.max(0, value), 1 - size);
  send({ type: "presentation.zoom", x: clamp(v.x, v.w), y: clamp(v.y, v.h), w: v.w, h: v.h });
}

// ------------------------------------------------------------------------ whiteboard --
let tool = "pen";
let drawing = null;
let panning = null;


function renderAnnotations() {
  const svg = $("annotations");
  const doc = currentPresentation();
  const shapes = doc ? state.annotations[doc.page] || [] : [];
  svg.replaceChildren(...shapes.map((shape) => shapeElement(shape, answerText, t("polls"))));
  if (drawing) svg.append(shapeElement(drawing, answerText, t("polls")));
}

function pointOf(event) {
  const box = $("annotations").getBoundingClientRect();
  return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height].map((v) => Math.round(v * 10000) / 10000);
}

function setupWhiteboard() {
  const svg = $("annotations");
  for (const b of document.querySelectorAll("[data-tool]")) {
    b.addEventListener("click", () => {
      tool = b.dataset.tool;
      for (const other of document.querySelectorAll("[data-tool]")) other.setAttribute("aria-pressed", String(other === b));
    });
  }
  const target = () => {
    const doc = currentPresentation();
    return doc ? { presentation: doc.id, page: doc.page } : null;
  };
  svg.addEventListener("pointerdown", (event) => {
    const where = target();
    if (!where || $("draw-tools").hidden) return;
    if (tool === "pan") {
      panning = { from: [event.clientX, event.clientY], view: { ...(state.view || WHOLE) } };
      svg.setPointerCapture(event.pointerId);
      return;
    }
    if (tool === "eraser") {
      const id = event.target.dataset?.shape;
      if (id) send({ type: "draw.erase", ...where, shape: id });
      return;
    }
    const point = pointOf(event);
    const id = `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    if (tool === "text") {
      const text = prompt(t("toolText"));
      if (text) send({ type: "draw.add", ...where, shape: { id, tool, points: [point], color: $("draw-color").value, text } });
      return;
    }
    drawing = { id, tool, points: [point, point], color: $("draw-color").value, width: 0.004 };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (panning) {
      const frame = $("slide-frame").getBoundingClientRect();
      const v = panning.view;
      const dx = ((event.clientX - panning.from[0]) / frame.width) * v.w;
      const dy = ((event.clientY - panning.from[1]) / frame.height) * v.h;
      state.view = { ...v, x: Math.min(Math.max(0, v.x - dx), 1 - v.w), y: Math.min(Math.max(0, v.y - dy), 1 - v.h) };
      applyView();
      return;
    }
    if (!drawing) return;
    const point = pointOf(event);
    if (drawing.tool === "pen") {
      if (drawing.points.length < 2000) drawing.points.push(point);
    } else drawing.points[1] = point;
    renderAnnotations();
  });
  svg.addEventListener("pointerup", () => {
    if (panning) {
      panning = null;
      sendView(state.view);
      return;
    }
    const where = target();
    if (drawing && where) send({ type: "draw.add", ...where, shape: drawing });
    drawing = null;
  });
  $("draw-undo").addEventListener("click", () => {
    const where = target();
    if (where) send({ type: "draw.erase", ...where, undo: true });
  });
  $("draw-clear").addEventListener("click", () => {
    const where = target();
    if (where) send({ type: "draw.erase", ...where, clear: true });
  });
  $("multi-user").addEventListener("change", (event) => send({ type: "whiteboard.multi", enabled: event.target.checked }));
}

function currentPresentation() {
  return state.presentations.find((d) => d.id === state.currentPresentation) || null;
}

function renderPresentation() {
  const hidden = disabled("presentation") || String(state.userdata?.bbb_hide_presentation).toLowerCase() === "true";
  const doc = currentPresentation();
  const processing = state.presentations.filter((d) => d.state === "processing");
  const failed = state.presentations.filter((d) => d.state === "failed");
  $("presentation").hidden = hidden || state.presentationMinimized;
  $("presentation-restore").hidden = hidden || !state.presentationMinimized;
  $("stage-placeholder").hidden = !hidden;
  const status = $("presentation-status");
  const notes = [];
  for (const d of processing) {
    notes.push(d.progress?.total
      ? t("presentationProgress", { name: d.name, done: d.progress.done, total: d.progress.total })
      : t("presentationProcessing", { name: d.name }));
  }
  if (failed.length && state.me?.presenter) notes.push(...failed.map((d) => t("presentationFailed", { name: d.name, reason: d.error || "" })));
  status.hidden = notes.length === 0;
  status.textContent = notes.join(" ");
  const slide = $("slide");
  slide.hidden = !doc;
  if (doc) {
    const src = `/room/slides/${encodeURIComponent(doc.id)}/${doc.page}`;
    if (slide.getAttribute("src") !== src) slide.src = src;
    slide.alt = t("slideAlt", { name: doc.name, page: doc.page, pages: doc.pages });
    slide.dataset.presentation = doc.id;
    slide.dataset.page = String(doc.page);
    $("page-label").textContent = `${doc.page} / ${doc.pages}`;
  }
  const presenter = Boolean(state.me?.presenter);
  $("presenter-tools").hidden = !presenter;
  const canDraw = Boolean(doc) && (presenter || state.multiUserWhiteboard);
  $("draw-tools").hidden = !canDraw;
  $("annotations").classList.toggle("drawing", canDraw);
  $("multi-user-label").hidden = !presenter;
  $("pan-tool").hidden = !presenter;
  applyView();
  $("multi-user").checked = state.multiUserWhiteboard;
  renderAnnotations();
  $("poll-panel").hidden = !presenter || disabled("polls");
  $("prev-page").disabled = !doc || doc.page <= 1;
  $("next-page").disabled = !doc || doc.page >= doc.pages;
  const list = $("presentation-list");
  list.replaceChildren(...state.presentations.filter((d) => d.state === "ready").map((d) => new Option(d.name, d.id, false, d.id === state.currentPresentation)));
  const others = state.presentations.filter((d) => d.state !== "processing" && d.id !== state.currentPresentation && d.removable);
  const remove = $("presentation-remove");
  remove.hidden = !presenter || others.length === 0;
  remove.dataset.presentation = others.length ? others[others.length - 1].id : "";
  remove.textContent = others.length ? t("removePresentationNamed", { name: others[others.length - 1].name }) : "";
  const download = $("download");
  const canDownload = doc && doc.downloadable && !disabled("downloadPresentationOriginalFile") && !disabled("downloadPresentationWithAnnotations");
  download.hidden = !canDownload;
  if (canDownload) download.href = `/room/documents/${encodeURIComponent(doc.id)}`;
  $("snapshot").hidden = !doc || disabled("snapshotOfCurrentSlide");
}

// BBB's "snapshot of the current slide": the page image with its annotations, as a PNG.
async function snapshotSlide() {
  const slide = $("slide");
  const doc = currentPresentation();
  if (!doc || !slide.naturalWidth) return;
  const [width, height] = [slide.naturalWidth, slide.naturalHeight];
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.drawImage(slide, 0, 0, width, height);
  const board = $("annotations").cloneNode(true);
  board.setAttribute("xmlns", SVG);
  board.setAttribute("width", width);
  board.setAttribute("height", height);
  // Strokes keep their on-screen thickness in the page; scale it to the image.
  const scale = width / Math.max(1, $("annotations").getBoundingClientRect().width);
  for (const el of board.querySelectorAll("[style]")) {
    const px = parseFloat(el.style.strokeWidth);
    if (px) el.style.strokeWidth = `${px * scale}px`;
  }
  const overlay = new Image();
  overlay.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(board))}`;
  await overlay.decode();
  context.drawImage(overlay, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${doc.name.replace(/\.[^.]+$/, "")}-${doc.page}.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function uploadPresentation(file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch("/room/upload", { method: "POST", body, credentials: "same-origin" });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ message: response.statusText }));
    toast(problem.message);
  }
}

// BBB's userdata-bbb_* join parameters that concern this page.
function applyUserdata(data) {
  const off = (key) => String(data[key]).toLowerCase() === "false";
  const on = (key) => String(data[key]).toLowerCase() === "true";
  if (data.bbb_client_title) document.title = data.bbb_client_title;
  document.querySelector(".topbar").hidden = on("bbb_hide_nav_bar");
  document.querySelector(".actionbar").hidden = on("bbb_hide_actions_bar");
  document.querySelector(".users").hidden = off("bbb_show_participants_on_login");
  document.querySelector(".chat").hidden = off("bbb_show_public_chat_on_login");
  // bbb_custom_style(_url): served sanitised from this origin (sala/room/custom_style.py), after
  // room.css so that it wins.
  if ((data.bbb_custom_style || data.bbb_custom_style_url) && !$("custom-style")) {
    const link = document.createElement("link");
    link.id = "custom-style";
    link.rel = "stylesheet";
    link.href = "/room/custom.css";
    document.head.append(link);
  }
}

// BBB's layouts as this page can show them: PRESENTATION_FOCUS puts the presentation above
// smaller webcams, VIDEO_FOCUS shows bigger webcams with the presentation minimised;
// SMART_LAYOUT, CUSTOM_LAYOUT and anything else are the usual page.
const LAYOUTS = { PRESENTATION_FOCUS: "presentation-focus", VIDEO_FOCUS: "video-focus" };

function startView(data, meeting) {
  const wanted = String(data.bbb_default_layout || meeting.layout || "").trim().toUpperCase();
  const layout = LAYOUTS[wanted] || "smart";
  $("room").dataset.layout = layout;
  state.presentationMinimized =
    layout === "video-focus" || String(data.bbb_hide_presentation_on_join).toLowerCase() === "true";
}

function minimizePresentation(minimized) {
  state.presentationMinimized = minimized;
  renderPresentation();
}

function disabled(feature) {
  return state.meeting && state.meeting.disabledFeatures.includes(feature);
}

function isModerator() {
  return state.me && state.me.role === "MODERATOR";
}

function renderBranding(meeting) {
  const dark = document.documentElement.dataset.theme === "dark" ||
    (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
  const logo = dark ? meeting.darklogo || meeting.logo : meeting.logo;
  $("logo").hidden = !logo;
  if (logo) $("logo").src = logo;
  const banner = $("banner");
  banner.hidden = !meeting.bannerText;
  banner.textContent = meeting.bannerText || "";
  if (meeting.bannerColor) {
    banner.style.background = meeting.bannerColor;
    banner.style.color = "#fff";
  }
  $("end").hidden = !isModerator();
  renderRecording();
}

// notifyRecordingIsOn (BBB 2.6): whoever is in a meeting that records is asked to stay or leave,
// once per recording stretch.
let recordingNoticed = false;
function noticeRecording() {
  if (!state.meeting?.recording) recordingNoticed = false;
  if (recordingNoticed || !state.meeting?.notifyRecordingIsOn || !state.meeting.recording) return;
  recordingNoticed = true;
  $("recording-notice").showModal();
}

function leave() {
  media.leaveAll();
  send({ type: "leave" });
  finish("left", state.meeting && state.meeting.logoutUrl);
}

function renderRecording() {
  const meeting = state.meeting;
  $("recording").hidden = !meeting?.recording;
  const toggle = $("record");
  toggle.hidden = !(meeting?.record && meeting.allowStartStopRecording && isModerator());
  toggle.textContent = t(meeting?.recording ? "stopRecording" : "startRecording");
  toggle.setAttribute("aria-pressed", String(Boolean(meeting?.recording)));
}

function button(label, onClick, extra = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  Object.assign(b, extra);
  return b;
}

function renderUsers() {
  const list = $("user-list");
  list.replaceChildren();
  const users = [...state.users.values()].sort((a, b) =>
    a.role === b.role ? a.name.localeCompare(b.name) : a.role === "MODERATOR" ? -1 : 1);
  $("user-count").textContent = String(users.length);
  const select = $("chat-to");
  const chosen = select.value;
  select.replaceChildren(new Option(t("everyone"), ""));
  for (const user of users) {
    const li = document.createElement("li");
    li.dataset.user = user.id;
    li.dataset.talking = String(Boolean(user.talking));
    li.dataset.audio = user.audio || "none";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = user.name + (state.me && user.id === state.me.id ? ` (${t("you")})` : "");
    li.append(name);
    const badges = document.createElement("span");
    badges.className = "badges";
    badges.textContent = [
      user.role === "MODERATOR" ? t("moderator") : user.guest ? t("guest") : t("viewer"),
      user.presenter ? t("presenter") : "",
      user.audio === "listen" ? "🎧" : user.audio === "mic" ? (user.muted ? "🔇" : "🎙") : "",
      user.hand ? "✋" : "",
      user.reaction || "",
      user.away ? t("away") : "",
    ].filter(Boolean).join(" · ");
    li.append(badges);
    if (isModerator() && user.id !== state.me.id) li.append(moderatorMenu(user));
    list.append(li);
    const privateAllowed = !disabled("privateChat") && !disabled("chat") &&
      !(state.me.role === "VIEWER" && state.locks.disablePrivateChat);
    if (state.me && user.id !== state.me.id && privateAllowed) select.append(new Option(user.name, user.id));
  }
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  const me = state.me;
  if (me) {
    $("hand").textContent = me.hand ? t("lowerHand") : t("raiseHand");
    $("hand").setAttribute("aria-pressed", String(me.hand));
    $("hand").hidden = disabled("raiseHand");
    $("reactions").hidden = disabled("userReactions");
    $("away").textContent = me.away ? t("back") : t("away");
    $("away").setAttribute("aria-pressed", String(me.away));
  }
  renderMedia();
}

function renderMedia() {
  const v = media.view();
  const me = state.me;
  $("audio-join").hidden = !v.available || v.audio !== null;
  $("audio-leave").hidden = v.audio === null;
  $("mute").hidden = v.audio !== "mic";
  if (me) {
    $("mute").textContent = me.muted ? t("unmute") : t("mute");
    $("mute").setAttribute("aria-pressed", String(Boolean(me.muted)));
  }
  $("camera").hidden = !v.canShareCamera && !v.camera;
  $("camera").textContent = v.camera ? t("stopCamera") : t("shareCamera");
  $("camera").setAttribute("aria-pressed", String(v.camera));
  $("screen").hidden = !v.canShareScreen && !v.screen;
  $("screen").textContent = v.screen ? t("stopScreen") : t("shareScreen");
  $("screen").setAttribute("aria-pressed", String(v.screen));
  $("mute-all").hidden = !v.available || !isModerator();
}

function moderatorMenu(user) {
  const menu = document.createElement("span");
  menu.className = "user-actions";
  if (user.hand) menu.append(button(t("lowerTheirHand"), () => send({ type: "hand.set", raised: false, user: user.id })));
  if (!user.presenter) menu.append(button(t("makePresenter"), () => send({ type: "user.presenter", user: user.id })));
  if (user.audio === "mic" && !user.muted) menu.append(button(t("muteThem"), () => media.muteUser(user.id, true)));
  if (user.audio === "mic" && user.muted && state.meeting.allowModsToUnmuteUsers)
    menu.append(button(t("unmuteThem"), () => media.muteUser(user.id, false)));
  if (state.meeting.allowModsToEjectCameras && media.feeds().some((f) => f.user === user.id && f.kind === "camera"))
    menu.append(button(t("ejectCamera"), () => media.ejectCamera(user.id)));
  menu.append(user.role === "MODERATOR"
    ? button(t("demote"), () => send({ type: "user.role", user: user.id, role: "VIEWER" }))
    : button(t("promote"), () => send({ type: "user.role", user: user.id, role: "MODERATOR" })));
  menu.append(button(t("remove"), () => send({ type: "user.remove", user: user.id }), { className: "danger" }));
  menu.append(button(t("removeAndBan"), () => send({ type: "user.remove", user: user.id, ban: true }), { className: "danger" }));
  return menu;
}

function renderLocks() {
  $("locks").hidden = !isModerator();
  for (const input of document.querySelectorAll("[data-lock]")) input.checked = Boolean(state.locks[input.dataset.lock]);
  const publicLocked = state.me && state.me.role === "VIEWER" && state.locks.disablePublicChat;
  $("chat-form").hidden = disabled("chat");
  $("chat-text").disabled = Boolean(publicLocked) && $("chat-to").value === "";
  notes.refresh();
  renderUsers();
}

function renderLobby() {
  const section = $("lobby");
  section.hidden = !isModerator() || state.lobby.length === 0;
  const list = $("lobby-list");
  list.replaceChildren();
  for (const guest of state.lobby) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = guest.name;
    li.append(name,
      button(t("allow"), () => send({ type: "guest.decide", user: guest.id, allow: true })),
      button(t("deny"), () => send({ type: "guest.decide", user: guest.id, allow: false })));
    list.append(li);
  }
}

function addChat(m) {
  const li = document.createElement("li");
  if (m.to) li.className = "private";
  const who = document.createElement("strong");
  who.textContent = m.from.name;
  const meta = document.createElement("span");
  meta.className = "meta";
  if (m.to) {
    const other = m.to === state.me?.id ? m.from.name : state.users.get(m.to)?.name || "";
    meta.textContent = m.to === state.me?.id ? t("privateFrom", { name: other }) : t("privateTo", { name: other });
  }
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = m.text;
  li.append(who, meta, text);
  $("chat-log").append(li);
  li.scrollIntoView({ block: "end" });
}

function setup() {
  setLocale(null);
  const saved = localStorage.getItem("sala-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  $("theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme === "dark" ||
      (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("sala-theme", document.documentElement.dataset.theme);
    if (state.meeting) renderBranding(state.meeting);
  });
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("chat-text").value.trim();
    if (!text) return;
    const to = $("chat-to").value || undefined;
    send({ type: "chat.send", text, to });
    $("chat-text").value = "";
  });
  $("chat-to").addEventListener("change", renderLocks);
  $("hand").addEventListener("click", () => send({ type: "hand.set", raised: !state.me.hand }));
  $("away").addEventListener("click", () => send({ type: "away.set", away: !state.me.away }));
  const reactions = $("reactions");
  for (const emoji of REACTIONS) {
    reactions.append(button(emoji, () =>
      send({ type: "reaction.set", emoji: state.me.reaction === emoji ? null : emoji })));
  }
  for (const input of document.querySelectorAll("[data-lock]")) {
    input.addEventListener("change", () => send({ type: "lock.set", [input.dataset.lock]: input.checked }));
  }
  $("audio-join").addEventListener("click", () => media.chooseAudio(state.userdata || {}).catch((e) => toast(e.message)));
  $("audio-leave").addEventListener("click", () => media.leaveAudio());
  $("mute").addEventListener("click", () => media.setMuted(!state.me.muted));
  $("camera").addEventListener("click", () => {
    if (media.view().camera) media.unpublish("camera");
    else media.openCameraPreview().catch((e) => toast(e.message));
  });
  $("screen").addEventListener("click", () => {
    if (media.view().screen) media.unpublish("screen");
    else media.shareScreen().catch((e) => toast(e.message));
  });
  $("mute-all").addEventListener("click", () => media.muteAll());
  const turn = (by) => {
    const doc = currentPresentation();
    if (doc) send({ type: "presentation.page", page: doc.page + by });
  };
  $("poll-kind").addEventListener("change", () => {
    $("poll-options-label").hidden = $("poll-kind").value !== "custom";
  });
  $("poll-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const options = $("poll-options").value.split("\n").map((o) => o.trim()).filter(Boolean);
    send({
      type: "poll.start", kind: $("poll-kind").value, question: $("poll-question").value,
      options, anonymous: $("poll-anonymous").checked, multiple: $("poll-multiple").checked,
    });
    $("poll-result").hidden = true;
  });
  $("poll-publish").addEventListener("click", () => send({ type: "poll.publish" }));
  $("poll-stop").addEventListener("click", () => send({ type: "poll.stop" }));
  $("poll-dialog").addEventListener("close", () => {
    if ($("poll-dialog").returnValue !== "answer" || !openPoll) return;
    const choices = [...document.querySelectorAll("#poll-dialog-answers input:checked")].map((i) => Number(i.value));
    const text = openPoll.typed ? $("poll-dialog-text").value : undefined;
    send({ type: "poll.answer", poll: openPoll.id, choices, text });
    openPoll = null;
  });
  $("presentation-minimize").addEventListener("click", () => minimizePresentation(true));
  $("presentation-restore").addEventListener("click", () => minimizePresentation(false));
  $("zoom-in").addEventListener("click", () => zoomBy(0.8));
  $("zoom-out").addEventListener("click", () => zoomBy(1.25));
  $("prev-page").addEventListener("click", () => turn(-1));
  $("next-page").addEventListener("click", () => turn(1));
  $("presentation-list").addEventListener("change", (event) => send({ type: "presentation.show", presentation: event.target.value }));
  $("presentation-remove").addEventListener("click", (event) => {
    const id = event.currentTarget.dataset.presentation;
    if (id) send({ type: "presentation.remove", presentation: id });
  });
  $("upload").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) uploadPresentation(file);
    event.target.value = "";
  });
  $("allow-all").addEventListener("click", () => send({ type: "guest.decide", allow: true }));
  $("deny-all").addEventListener("click", () => send({ type: "guest.decide", allow: false }));
  $("leave").addEventListener("click", leave);
  $("recording-notice").addEventListener("close", () => {
    if ($("recording-notice").returnValue === "leave") leave();
  });
  $("notes-reset").addEventListener("click", () => {
    $("confirm-notes-reset").returnValue = ""; // Escape keeps the last value otherwise
    $("confirm-notes-reset").showModal();
  });
  $("confirm-notes-reset").addEventListener("close", () => {
    if ($("confirm-notes-reset").returnValue === "reset") send({ type: "notes.reset", ref: "reset-notes" });
  });
  $("end").addEventListener("click", () => $("confirm-end").showModal());
  $("confirm-end").addEventListener("close", () => {
    if ($("confirm-end").returnValue === "end") send({ type: "meeting.end" });
  });
  setupWhiteboard();
  $("record").addEventListener("click", () => send({ type: "recording.set", recording: !state.meeting?.recording }));
  $("snapshot").addEventListener("click", () => snapshotSlide().catch((error) => toast(String(error))));
  connect();
}

setup();
