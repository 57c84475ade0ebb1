// The presentation playback: recording.json says what was shown when; the voice track is the
// clock, and slides, drawings, zoom, chat, webcams and screens follow it. Text from people is
// only ever written with textContent.
import { shapeElement } from "/room/static/shapes.js";

const WORDS = {
  "en-US": { captions: "Captions", captionsOff: "Off", search: "Search slides and chat", chat: "Chat", notes: "Shared notes", missing: "This recording cannot be played.", slide: "Slide {n}", noResults: "Nothing found", poll: "Poll" },
  "pt-BR": { captions: "Legendas", captionsOff: "Desligadas", search: "Buscar nos slides e no chat", chat: "Bate-papo", notes: "Notas compartilhadas", missing: "Esta gravação não pode ser reproduzida.", slide: "Slide {n}", noResults: "Nada encontrado", poll: "Enquete" },
  "es-ES": { captions: "Subtítulos", captionsOff: "Desactivados", search: "Buscar en las diapositivas y el chat", chat: "Chat", notes: "Notas compartidas", missing: "Esta grabación no se puede reproducir.", slide: "Diapositiva {n}", noResults: "No se encontró nada", poll: "Encuesta" },
};
// The first of the browser's languages the player speaks.
const locale =
  navigator.languages
    .map((l) => l.toLowerCase())
    .map((l) => (l.startsWith("pt") ? "pt-BR" : l.startsWith("es") ? "es-ES" : l.startsWith("en") ? "en-US" : null))
    .find(Boolean) || "en-US";
const t = (key, values = {}) => WORDS[locale][key].replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
const PRESETS = {
  "pt-BR": { Yes: "Sim", No: "Não", True: "Verdadeiro", False: "Falso" },
  "es-ES": { Yes: "Sí", No: "No", True: "Verdadero", False: "Falso" },
  "en-US": {},
};
const answer = (key) => PRESETS[locale][key] || key;
const $ = (id) => document.getElementById(id);
const DRIFT_S = 0.35;

const base = location.pathname.replace(/\/+$/, "");
const mediaOnly = new URLSearchParams(location.search).get("l") === "media";
let data = null;
const players = [];

function clock(seconds) {
  const s = Math.floor(seconds);
  const pad = (n) => String(n).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

function lastBefore(list, ms) {
  let found = null;
  for (const item of list) {
    if (item.t > ms) break;
    found = item;
  }
  return found;
}

function seek(ms) {
  const audio = $("audio");
  audio.currentTime = ms / 1000;
  render();
}

// ------------------------------------------------------------------------------ slides --
let shownKey = "";
function renderSlide(ms) {
  const shown = lastBefore(data.slides, ms);
  const img = $("slide");
  if (!shown) {
    img.hidden = true;
    return;
  }
  const src = `${base}/slides/${encodeURIComponent(shown.presentation)}/${shown.page}.png`;
  if (img.getAttribute("src") !== src) img.src = src;
  img.hidden = false;
  img.dataset.page = String(shown.page);
  const document_ = data.documents[shown.presentation];
  img.alt = document_ ? `${document_.name}, ${t("slide", { n: shown.page })}` : "";
  const shapes = [];
  for (const change of data.drawings) {
    if (change.t > ms) break;
    if (change.presentation !== shown.presentation || change.page !== shown.page) continue;
    if (change.add) shapes.push(change.add);
    else for (const id of change.remove) {
      const at = shapes.findIndex((s) => s.id === id);
      if (at >= 0) shapes.splice(at, 1);
    }
  }
  // The slide's proportions, once its image is in: text and notes are drawn unstretched.
  const aspect = img.naturalWidth && img.naturalHeight ? img.naturalWidth / img.naturalHeight : undefined;
  const key = `${src}|${aspect}|${shapes.map((s) => s.id).join(",")}`;
  if (key !== shownKey) {
    shownKey = key;
    $("drawings").replaceChildren(...shapes.map((s) => shapeElement(s, answer, t("poll"), { aspect })));
  }
  const zoom = lastBefore(data.zooms, ms) || { x: 0, y: 0, w: 1, h: 1 };
  const view = $("slide-view");
  view.style.transform = `scale(${1 / zoom.w}) translate(${-zoom.x * 100}%, ${-zoom.y * 100}%)`;
  view.dataset.view = [zoom.x, zoom.y, zoom.w, zoom.h].join(",");
  for (const li of $("thumbnails").children) {
    const current = Number(li.dataset.t) === shown.t;
    if (current && !li.classList.contains("current")) li.scrollIntoView({ block: "nearest", inline: "nearest" });
    li.classList.toggle("current", current);
  }
}

function buildThumbnails() {
  const list = $("thumbnails");
  for (const change of data.slides) {
    const li = document.createElement("li");
    li.dataset.t = String(change.t);
    const img = document.createElement("img");
    img.src = `${base}/slides/${encodeURIComponent(change.presentation)}/${change.page}-thumb.png`;
    img.alt = t("slide", { n: change.page });
    img.loading = "lazy";
    li.append(img);
    li.title = clock(change.t / 1000);
    li.addEventListener("click", () => seek(change.t));
    list.append(li);
  }
}

// -------------------------------------------------------------------------------- chat --
function buildChat() {
  const list = $("chat");
  for (const message of data.chat) {
    const li = document.createElement("li");
    li.dataset.t = String(message.t);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = message.name;
    const text = document.createElement("span");
    text.textContent = message.text;
    const time = document.createElement("time");
    time.textContent = clock(message.t / 1000);
    li.append(who, text, time);
    li.addEventListener("click", () => seek(message.t));
    list.append(li);
  }
}

function renderChat(ms) {
  let latest = null;
  for (const li of $("chat").children) {
    const future = Number(li.dataset.t) > ms;
    li.dataset.future = String(future);
    li.classList.remove("current");
    if (!future) latest = li;
  }
  if (latest) latest.classList.add("current");
  // Keep the latest message in sight as the recording plays (not while the viewer searches).
  if (latest && latest !== renderChat.shown) {
    renderChat.shown = latest;
    latest.scrollIntoView({ block: "nearest" });
  }
}

// ------------------------------------------------------------------------------ videos --
function buildVideos() {
  for (const video of data.videos) {
    const el = document.createElement("video");
    el.src = `${base}/${video.file}`;
    el.muted = true; // the voices are in the audio track
    el.playsInline = true;
    el.preload = "auto";
    el.dataset.kind = video.kind;
    el.hidden = true;
    if (video.kind === "screen") {
      $("screens").append(el);
    } else {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = video.name;
      figure.append(el, caption);
      figure.hidden = true;
      $("cameras").append(figure);
    }
    players.push({ video, el });
  }
}

function renderVideos(ms, playing) {
  for (const { video, el } of players) {
    const piece = video.pieces.find((p) => p.from <= ms && ms < p.to);
    const holder = video.kind === "screen" ? el : el.parentElement;
    holder.hidden = !piece;
    el.hidden = !piece;
    if (!piece) {
      if (!el.paused) el.pause();
      continue;
    }
    const want = (piece.offset + ms - piece.from) / 1000;
    if (Math.abs(el.currentTime - want) > DRIFT_S) el.currentTime = want;
    if (playing && el.paused) el.play().catch(() => {});
    if (!playing && !el.paused) el.pause();
  }
  $("screens").hidden = !players.some(({ video, el }) => video.kind === "screen" && !el.hidden);
}

// ------------------------------------------------------------------------------- notes --
function renderNotes(ms) {
  const history = data.notesHistory || [];
  const shown = history.length ? (lastBefore(history, ms)?.text ?? "") : data.notes;
  const el = $("notes");
  if (el.textContent !== shown) el.textContent = shown;
}

// ---------------------------------------------------------------------------- captions --
let cues = [];

// WebVTT cues: "hh:mm:ss.ttt --> hh:mm:ss.ttt" (hours optional), then the text lines.
function parseVtt(text) {
  const time = (t) => t.split(":").reduce((sum, part) => sum * 60 + parseFloat(part), 0) * 1000;
  const found = [];
  for (const block of text.replace(/\r/g, "").split(/\n\n+/)) {
    const lines = block.split("\n");
    const at = lines.findIndex((l) => l.includes("-->"));
    if (at < 0) continue;
    const [from, to] = lines[at].split("-->").map((x) => time(x.trim().split(/\s+/)[0]));
    found.push({ from, to, text: lines.slice(at + 1).join("\n").replace(/<[^>]*>/g, "") });
  }
  return found;
}

async function buildCaptions() {
  const tracks = await fetch(`${base}/captions.json`).then((r) => (r.ok ? r.json() : [])).catch(() => []);
  if (!tracks.length) return;
  const select = $("captions");
  for (const track of tracks) select.append(new Option(track.label, track.url));
  $("captions-label").hidden = false;
  select.addEventListener("change", async () => {
    cues = select.value ? parseVtt(await (await fetch(`${base}/${select.value}`)).text()) : [];
    render();
  });
}

function renderCaption(ms) {
  const cue = cues.find((c) => c.from <= ms && ms < c.to);
  const el = $("caption");
  el.hidden = !cue;
  el.textContent = cue ? cue.text : "";
}

// ------------------------------------------------------------------------------ search --
function search(words) {
  const results = $("results");
  results.replaceChildren();
  const query = words.trim().toLowerCase();
  results.hidden = !query;
  if (!query) return;
  const found = [];
  for (const change of data.slides) {
    const text = data.documents[change.presentation]?.texts?.[change.page - 1] || "";
    if (text.toLowerCase().includes(query)) found.push({ t: change.t, label: `${t("slide", { n: change.page })}: ${excerpt(text, query)}` });
  }
  for (const message of data.chat) {
    if (`${message.name} ${message.text}`.toLowerCase().includes(query)) found.push({ t: message.t, label: `${message.name}: ${message.text}` });
  }
  found.sort((a, b) => a.t - b.t);
  if (!found.length) {
    const li = document.createElement("li");
    li.textContent = t("noResults");
    results.append(li);
    return;
  }
  for (const hit of found) {
    const li = document.createElement("li");
    li.textContent = hit.label;
    const time = document.createElement("time");
    time.textContent = clock(hit.t / 1000);
    li.append(time);
    li.addEventListener("click", () => seek(hit.t));
    results.append(li);
  }
}

function excerpt(text, query) {
  const at = text.toLowerCase().indexOf(query);
  return (at > 30 ? "…" : "") + text.slice(Math.max(0, at - 30), at + query.length + 40);
}

// ----------------------------------------------------------------------------- the clock --
function render() {
  const audio = $("audio");
  const ms = audio.currentTime * 1000;
  if (!mediaOnly) {
    renderSlide(ms);
    renderChat(ms);
  }
  renderCaption(ms);
  renderNotes(ms);
  renderVideos(ms, !audio.paused);
}

function loop() {
  render();
  if (!$("audio").paused) requestAnimationFrame(loop);
}

async function start() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  document.documentElement.lang = locale;
  if (mediaOnly) document.body.classList.add("media-only");
  const response = await fetch(`${base}/recording.json`);
  if (!response.ok) throw new Error(String(response.status));
  data = await response.json();
  // The title as the recording's metadata says now (updateRecordings may have changed it).
  const meta = await fetch(`${base}/metadata.json`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  document.title = meta.name || data.name;
  $("title").textContent = meta.name || data.name;
  $("notes").textContent = data.notes;
  $("audio").src = `${base}/${data.audio}`;
  buildThumbnails();
  buildChat();
  buildVideos();
  await buildCaptions();
  const audio = $("audio");
  audio.addEventListener("play", () => requestAnimationFrame(loop));
  for (const event of ["pause", "seeked", "timeupdate", "loadedmetadata"]) audio.addEventListener(event, render);
  $("slide").addEventListener("load", render);
  $("search-form").addEventListener("submit", (event) => event.preventDefault());
  $("search").addEventListener("input", (event) => search(event.target.value));
  for (const [tab, panel, other, otherPanel] of [["tab-chat", "chat", "tab-notes", "notes"], ["tab-notes", "notes", "tab-chat", "chat"]]) {
    $(tab).addEventListener("click", () => {
      $(tab).setAttribute("aria-selected", "true");
      $(other).setAttribute("aria-selected", "false");
      $(panel).hidden = false;
      $(otherPanel).hidden = true;
    });
  }
  window.salaPlayer = { data, seek, render };
  render();
}

start().catch(() => {
  $("player").hidden = true;
  $("problem").hidden = false;
  $("problem").textContent = t("missing");
});
