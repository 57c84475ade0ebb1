// The media engine: audio, webcams and screen sharing, with no UI. Every negotiation goes through
// the room's WebSocket (the server relays it to the media server and checks who may do what); SDP
// is sent whole, after ICE gathering. One RTCPeerConnection per piece: the audio (mix in,
// microphone out), each published feed, and each feed received. A piece whose connection fails
// is negotiated again. Listen-only watches the meeting's mix as the media server encodes it once
// for every listener (its own connection, the server offers); switching between it and the
// microphone is make-before-break: the new connection plays before the old one is closed. On a
// media node that relays the meeting, that connection also carries the presenter's webcam and
// the screen (streams `camera` and `screen`): the server says which feeds (`relayed`), and those
// are shown from it instead of being subscribed to. What the page shows is read from the
// signals below; components render <video>/<audio> elements from the MediaStreams they hold.
import { batch, computed, signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { t } from "../../core/i18n.js";
import { flag, locks, me, meeting, toast, userdata } from "../../core/store.js";
import { audioConstraints, videoConstraints, QUALITIES } from "./devices.js";
import { chosenLayer, encodingsFor, subscribed, unsubscribed } from "./layers.js";

const GATHER_MS = 2500;
const RECONNECT_AFTER_MS = 4000;
const FINAL_ERRORS = ["locked", "forbidden", "disabled", "camera_cap", "not_found", "bad_sdp"];

/** Media is offered in this meeting (sala runs a media server). */
export const available = signal(false);
/** The audio as connected: null, "mic" or "listen". */
export const audioMode = signal(null);
/** An audio join under way (the button shows it). */
export const audioJoining = signal(false);
/** The meeting's mix as it arrives (the hidden <audio> plays it). */
export const mixStream = signal(null);
/** My microphone's stream while in audio with it. */
export const micStream = signal(null);
/** What I publish: kind ("camera", "screen") -> { stream, feed }. */
export const published = signal(new Map());
/** Every feed the server offers me: [{ id, user, kind }]. */
export const feeds = signal([]);
/** Feeds I receive now: feed id -> { feed, stream } (stream null until the track arrives). */
export const received = signal(new Map());
/** The echo test (BBB's audio check): null, or { state: "connecting" | "playing", mic, back }
 * where mic is my microphone's stream and back my voice as the media server returns it. */
export const echo = signal(null);
/** Pieces whose connection is lost and being set up again ("audio", "camera", "feed-3"…). */
export const problems = signal(new Set());

export const micMuted = computed(() => Boolean(me.value?.muted));
/** Users with a webcam on (mine included): the people feature marks them. */
export const cameraUsers = computed(
  () => new Set(feeds.value.filter((f) => f.kind === "camera").map((f) => f.user)),
);

const pending = new Map();
let nextRef = 1;
let iceServers = [];
let started = false;
let audioWanted = null; // "mic" | "listen" | null: what to rebuild after a loss
let audioPc = null; // the bridge: microphone out, mix in
let listenPc = null; // listen-only: the meeting's forwarded mix in
let listenGeneration = 0; // a newer listen start (or a leave) makes an older one moot
let listenVideos = new Map(); // the listen connection's video, by mid ("camera", "screen")
let carried = {}; // kind -> the feed id the listen stream carries there (null: none), v3
let echoPc = null;
let echoTests = 0; // how many were started on this page (the browser tests read it)
const publishers = new Map(); // kind -> { pc, stream, feed }
const peers = new Map(); // feed id -> { pc, feed, stream }
let wanted = new Set(); // feed ids the views show

// ------------------------------------------------------------------------- settings --
/** bbb_force_listen_only does not apply to moderators (as they are now). */
export const forcedListenOnly = () => flag("bbb_force_listen_only", false) && me.value?.role !== "MODERATOR";
export const micLocked = () => me.value?.role === "VIEWER" && Boolean(locks.value.disableMic);
export function preferredProfile() {
  const profile = String(userdata.value.bbb_preferred_camera_profile || "").toLowerCase();
  return Object.hasOwn(QUALITIES, profile) ? profile : null;
}
export function canShareCamera() {
  return available.value && !(me.value?.role === "VIEWER" && locks.value.disableCam);
}
export function canShareScreen() {
  return available.value && Boolean(me.value?.presenter) && !(meeting.value?.disabledFeatures || []).includes("screenshare");
}

// ------------------------------------------------------------------------ signaling --
function request(message) {
  const ref = `m${nextRef++}`;
  send({ ...message, ref });
  return new Promise((resolve, reject) => {
    pending.set(ref, { resolve, reject });
    setTimeout(() => {
      if (pending.delete(ref)) reject(new Error(t("mediaTimeout")));
    }, 20000);
  });
}

function answered(m) {
  const waiting = m.ref && pending.get(m.ref);
  if (!waiting) return false;
  pending.delete(m.ref);
  if (m.type === "error") {
    const error = new Error(m.message);
    error.code = m.code;
    waiting.reject(error);
  } else waiting.resolve(m);
  return true;
}

async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    setTimeout(resolve, GATHER_MS);
  });
}

async function localOffer(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return pc.localDescription.sdp;
}

function peer() {
  return new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
}

function setProblem(name, on) {
  if (problems.value.has(name) === on) return;
  const next = new Set(problems.value);
  if (on) next.add(name);
  else next.delete(name);
  problems.value = next;
}

// A connection that fails (or stays disconnected) is set up again from scratch.
function watch(pc, name, again) {
  let timer = null;
  pc.addEventListener("connectionstatechange", () => {
    const s = pc.connectionState;
    if (s === "connected") {
      clearTimeout(timer);
      setProblem(name, false);
    } else if (s === "failed" || s === "disconnected") {
      setProblem(name, true);
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (pc.connectionState !== "connected" && pc.signalingState !== "closed") again();
      }, s === "failed" ? 0 : RECONNECT_AFTER_MS);
    }
  });
}

async function retrying(what, attempt) {
  for (let i = 0; i < 6; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (FINAL_ERRORS.includes(error.code) || i === 5) {
        toast(error.message, { kind: "error" });
        throw error;
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** i));
    }
  }
  throw new Error(what);
}

// ---------------------------------------------------------------------------- audio --
async function openMic() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(), video: false });
  } catch (error) {
    // The saved device is gone: any microphone will do.
    if (error.name !== "OverconstrainedError" && error.name !== "NotFoundError") throw error;
    return navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  }
}

/** Resolves once `pc` is connected (its media flows), rejects when it fails or takes too long. */
function connected(pc, ms = 10000) {
  if (pc.connectionState === "connected") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(t("mediaTimeout"))), ms);
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") {
        clearTimeout(timer);
        resolve();
      } else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
        clearTimeout(timer);
        reject(new Error(t("mediaTimeout")));
      }
    });
  });
}

/** Joins the meeting's audio: listen-only, or with a microphone (`given`: a stream already
 * open, the one the echo test checked; else the chosen device is opened). From listen-only the
 * stream keeps playing until the microphone's connection is up, and the other way round. */
export async function joinAudio(listenOnly, given = null) {
  if (listenOnly) return listen();
  audioWanted = "mic";
  const switching = listenPc !== null;
  if (!switching) closeAudio();
  else if (audioPc) {
    audioPc.close();
    audioPc = null;
  }
  audioJoining.value = true;
  try {
    let mic = null;
    if (!listenOnly) mic = given && given.getAudioTracks().some((x) => x.readyState === "live") ? given : await openMic();
    await retrying("audio", async () => {
      const pc = peer();
      if (mic) pc.addTrack(mic.getAudioTracks()[0], mic);
      else pc.addTransceiver("audio", { direction: "recvonly" });
      let mix = null;
      pc.addEventListener("track", (event) => {
        mix = event.streams[0] || new MediaStream([event.track]);
        if (!listenPc) mixStream.value = mix;
      });
      try {
        const sdp = await localOffer(pc);
        const reply = await request({ type: "media.audio.join", sdp, listenOnly });
        await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
        // Make before break: the stream plays on until the bridge's audio is connected.
        if (listenPc) await connected(pc);
      } catch (error) {
        pc.close();
        throw error;
      }
      audioPc = pc;
      const wasListening = listenPc !== null;
      stopListening();
      batch(() => {
        if (mix) mixStream.value = mix;
        micStream.value = mic;
        audioMode.value = audioWanted;
      });
      if (wasListening) request({ type: "media.listen.stop" }).catch(() => {});
      applyMute();
      watch(pc, "audio", () => joinAudio(audioMode.value === "listen").catch(() => {}));
    }).catch((error) => {
      if (mic) for (const track of mic.getTracks()) track.stop();
      throw error;
    });
  } finally {
    audioJoining.value = false;
  }
}

/** Listen-only through the meeting's forwarded mix: the server relays the media server's offer,
 * this page answers. From the microphone, the bridge is left once the stream is connected. */
async function listen() {
  audioWanted = "listen";
  const generation = ++listenGeneration;
  const current = () => generation === listenGeneration;
  if (listenPc) listenPc.close();
  const carrying = carriedFeeds().size > 0;
  listenPc = null;
  listenVideos = new Map();
  if (carrying) reconcile(); // subscribed to meanwhile; the new stream takes them back
  audioJoining.value = true;
  try {
    await retrying("listen", async () => {
      if (!current()) return;
      const offer = await request({ type: "media.listen.start" });
      if (!current()) return;
      carried = offer.relayed || {};
      const pc = peer();
      let mix = null;
      const videos = new Map();
      pc.addEventListener("track", (event) => {
        // A relay's stream: the webcam and the screen come by mid, each in a stream of its own.
        if (event.track.kind === "video") return videos.set(event.transceiver?.mid, new MediaStream([event.track]));
        mix = event.streams[0] || new MediaStream([event.track]);
        if (!audioPc && current()) mixStream.value = mix;
      });
      try {
        await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        if (!current()) return pc.close();
        await request({ type: "media.listen.answer", sdp: pc.localDescription.sdp });
        if (audioPc) await connected(pc); // make before break
      } catch (error) {
        pc.close();
        throw error;
      }
      if (!current()) return pc.close();
      listenPc = pc;
      listenVideos = videos;
      reconcile(); // the feeds the stream carries are shown from it from now on
      layerViaStream();
      const bridged = audioPc !== null;
      if (audioPc) audioPc.close();
      audioPc = null;
      stopStream(micStream.value);
      batch(() => {
        if (mix) mixStream.value = mix;
        micStream.value = null;
        audioMode.value = "listen";
        setProblem("audio", false);
      });
      if (bridged) await request({ type: "media.audio.leave" }).catch(() => {});
      watch(pc, "listen", () => {
        if (listenPc === pc) listen().catch(() => {});
      });
    });
  } finally {
    if (current()) audioJoining.value = false;
  }
}

function stopListening() {
  listenGeneration++;
  if (listenPc) listenPc.close();
  const carrying = carriedFeeds().size > 0;
  listenPc = null;
  listenVideos = new Map();
  carried = {};
  setProblem("listen", false);
  if (carrying) reconcile(); // what the stream showed is subscribed to again
}

/** The feeds the listen stream carries now and shows: feed id -> its MediaStream. */
function carriedFeeds() {
  const out = new Map();
  if (!listenPc) return out;
  for (const [kind, id] of Object.entries(carried)) {
    const stream = listenVideos.get(kind);
    if (id !== null && id !== undefined && stream) out.set(id, stream);
  }
  return out;
}

function closeAudio() {
  stopListening();
  if (audioPc) audioPc.close();
  audioPc = null;
  batch(() => {
    audioMode.value = null;
    mixStream.value = null;
    setProblem("audio", false);
  });
}

export async function leaveAudio() {
  audioWanted = null;
  const stream = listenPc !== null;
  const bridge = audioPc !== null;
  stopStream(micStream.value);
  micStream.value = null;
  closeAudio();
  // The stream first: leaving the bridge while still receiving it would keep one a listener.
  if (stream) await request({ type: "media.listen.stop" }).catch(() => {});
  if (bridge || !stream) await request({ type: "media.audio.leave" }).catch(() => {});
}

export async function setMuted(muted) {
  await request({ type: "media.audio.mute", muted }).catch((e) => toast(e.message, { kind: "error" }));
}

export const toggleMute = () => (audioMode.value === "mic" ? setMuted(!micMuted.value) : undefined);

/** Echo of the mute state the server decided (it may be a moderator's doing, or muteOnStart). */
export function applyMute() {
  const mic = micStream.value;
  if (mic && me.value) for (const track of mic.getAudioTracks()) track.enabled = !me.value.muted;
}

/** Another microphone, chosen in the settings: swapped in without negotiating again. */
export async function switchMicrophone() {
  if (audioMode.value !== "mic" || !audioPc) return;
  const next = await openMic();
  const track = next.getAudioTracks()[0];
  const sender = audioPc.getSenders().find((s) => s.track?.kind === "audio" || s.track === null);
  if (!sender) return stopStream(next);
  await sender.replaceTrack(track);
  stopStream(micStream.value);
  micStream.value = next;
  applyMute();
}

// ------------------------------------------------------------------------ echo test --
/** BBB's echo test: my microphone goes to the media server, which sends it straight back, so
 * that I hear myself through the whole path (network, codec, server). Resolves once the answer
 * is set; `echo` then holds the streams. Errors carry the server's code (`locked`,
 * `forbidden`, `media_unavailable`…) or the browser's name (`NotFoundError`…). */
export async function startEcho() {
  stopEcho(false, true);
  echoTests += 1;
  const mic = await openMic();
  const pc = peer();
  echoPc = pc;
  echo.value = { state: "connecting", mic, back: null };
  pc.addTrack(mic.getAudioTracks()[0], mic);
  pc.addEventListener("track", (event) => {
    if (echoPc !== pc) return;
    echo.value = { ...echo.value, back: event.streams[0] || new MediaStream([event.track]) };
  });
  pc.addEventListener("connectionstatechange", () => {
    if (echoPc === pc && pc.connectionState === "connected") echo.value = { ...echo.value, state: "playing" };
  });
  try {
    const sdp = await localOffer(pc);
    // Cancelled while gathering: nothing may start on the server after its stop.
    if (echoPc !== pc) throw Object.assign(new Error("stopped"), { code: "stopped" });
    const reply = await request({ type: "media.echo.start", sdp });
    if (echoPc !== pc) throw Object.assign(new Error("stopped"), { code: "stopped" });
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
  } catch (error) {
    if (echoPc === pc) stopEcho(false, true);
    throw error;
  }
  return mic;
}

/** Ends the echo test; the server lets go of it (`tell`). With `keepMic`, the microphone stays
 * open and is returned, to join the audio with it. */
export function stopEcho(keepMic = false, tell = true) {
  const current = echo.value;
  const hadOne = echoPc !== null;
  if (echoPc) echoPc.close();
  echoPc = null;
  echo.value = null;
  if (!keepMic) stopStream(current?.mic);
  if (hadOne && tell) request({ type: "media.echo.stop" }).catch(() => {});
  return keepMic ? current?.mic || null : null;
}

// -------------------------------------------------------------------------- publish --
function setPublished() {
  published.value = new Map([...publishers].map(([kind, e]) => [kind, { stream: e.stream, feed: e.feed }]));
}

export async function publish(kind, stream) {
  const old = publishers.get(kind);
  if (old && old.pc) old.pc.close();
  if (old && old.stream !== stream) stopStream(old.stream);
  const entry = { pc: null, stream, feed: null };
  publishers.set(kind, entry);
  const track = stream.getVideoTracks()[0];
  track.addEventListener("ended", () => {
    if (publishers.get(kind)?.stream === stream) unpublish(kind);
  });
  await retrying(kind, async () => {
    const pc = peer();
    // A webcam large enough goes out in three simulcast layers (layers.js); a screen in one.
    const sendEncodings = encodingsFor(kind, track);
    pc.addTransceiver(track, { direction: "sendonly", streams: [stream], ...(sendEncodings ? { sendEncodings } : {}) });
    try {
      const sdp = await localOffer(pc);
      const reply = await request({ type: "media.publish", kind, sdp });
      await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
      entry.feed = reply.feed;
    } catch (error) {
      pc.close();
      throw error;
    }
    entry.pc = pc;
    watch(pc, kind, () => publish(kind, entry.stream).catch(() => {}));
  }).catch((error) => {
    if (publishers.get(kind) === entry) publishers.delete(kind);
    stopStream(stream);
    setPublished();
    throw error;
  });
  setPublished();
}

export async function unpublish(kind, tell = true) {
  const entry = publishers.get(kind);
  if (!entry) return;
  publishers.delete(kind);
  if (entry.pc) entry.pc.close();
  stopStream(entry.stream);
  batch(() => {
    setPublished();
    setProblem(kind, false);
  });
  if (tell) await request({ type: "media.unpublish", kind }).catch(() => {});
}

export async function openCamera(quality, deviceId) {
  try {
    return await navigator.mediaDevices.getUserMedia({ video: videoConstraints(quality, deviceId), audio: false });
  } catch (error) {
    if (error.name !== "OverconstrainedError" && error.name !== "NotFoundError") throw error;
    return navigator.mediaDevices.getUserMedia({ video: QUALITIES[quality] || QUALITIES.medium, audio: false });
  }
}

export async function shareCamera(quality, deviceId) {
  await publish("camera", await openCamera(quality, deviceId));
}

/** Another webcam chosen while it is on: swapped in without negotiating again, unless its
 * capture allows another number of simulcast layers (then it is published anew). */
export async function switchCamera(quality, deviceId) {
  const entry = publishers.get("camera");
  if (!entry || !entry.pc) return;
  const next = await openCamera(quality, deviceId);
  const layers = (track) => encodingsFor("camera", track)?.length || 1;
  if (layers(next.getVideoTracks()[0]) !== layers(entry.stream.getVideoTracks()[0])) return publish("camera", next);
  const sender = entry.pc.getSenders()[0];
  await sender.replaceTrack(next.getVideoTracks()[0]);
  const old = entry.stream;
  entry.stream = next;
  next.getVideoTracks()[0].addEventListener("ended", () => {
    if (publishers.get("camera")?.stream === next) unpublish("camera");
  });
  stopStream(old);
  setPublished();
}

export async function shareScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  await publish("screen", stream);
}

export function stopStream(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

// -------------------------------------------------------------------------- receive --
function setReceived() {
  const out = new Map([...peers].map(([id, e]) => [id, { feed: e.feed, stream: e.stream }]));
  const offered = new Map(feeds.value.map((f) => [f.id, f]));
  for (const [id, stream] of carriedFeeds()) {
    if (offered.has(id) && wanted.has(id)) out.set(id, { feed: offered.get(id), stream });
  }
  received.value = out;
}

async function receive(feed) {
  const old = peers.get(feed.id);
  if (old && old.pc) old.pc.close();
  const entry = { pc: null, feed, stream: null };
  peers.set(feed.id, entry);
  setReceived();
  const current = () => peers.get(feed.id) === entry;
  await retrying(`feed ${feed.id}`, async () => {
    if (!current()) return;
    const offer = await request({ type: "media.subscribe", feed: feed.id });
    if (!current()) return;
    const pc = peer();
    pc.addEventListener("track", (event) => {
      if (!current()) return;
      entry.stream = event.streams[0] || new MediaStream([event.track]);
      setReceived();
    });
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      if (!current()) return pc.close();
      await request({ type: "media.answer", feed: feed.id, sdp: pc.localDescription.sdp });
    } catch (error) {
      pc.close();
      throw error;
    }
    if (!current()) return pc.close();
    entry.pc = pc;
    subscribed(feed.id);
    watch(pc, `feed-${feed.id}`, () => {
      if (current()) receive(feed).catch(() => {});
    });
  }).catch(() => {});
}

function stopReceiving(id, tell) {
  const entry = peers.get(id);
  peers.delete(id);
  if (entry && entry.pc) entry.pc.close();
  unsubscribed(id);
  setProblem(`feed-${id}`, false);
  // The server lets go of the subscription (its handle on the media server) too.
  if (tell) request({ type: "media.unsubscribe", feed: id }).catch(() => {});
}

/** The subscriptions now: feed id -> { pc (null while negotiating), feed, stream }. */
export const receivingPeers = () => peers;

/** Which simulcast layer of a webcam the server forwards to me (0 lowest, 2 highest): of a
 * subscription, or of the webcam my listen stream carries on a relay node (v3). */
export function chooseLayer(feedId, substream) {
  if (streamPeer(feedId)) return request({ type: "media.listen.layer", feed: feedId, substream });
  return request({ type: "media.quality", feed: feedId, substream });
}

/** The listen stream, as layers.js sees a receiving connection, when it shows this webcam. */
export function streamPeer(feedId) {
  if (!listenPc || carried.camera !== feedId || !listenVideos.has("camera")) return null;
  return { pc: listenPc, feed: { id: feedId, kind: "camera" } };
}

/** The webcam the listen stream carries and shows now (its feed id), or null. */
export function carriedCamera() {
  const id = carried.camera;
  return id !== null && id !== undefined && streamPeer(id) ? id : null;
}

/** The webcam the listen stream carries (if any) gets the layer its tile wants, as a new
 * subscription does: on a new stream, or when the stream carries another webcam. */
function layerViaStream() {
  const id = carriedCamera();
  if (id !== null) subscribed(id);
}

/** Receive exactly the offered feeds that are wanted, except those the listen stream carries
 * (shown from it); let go of the others. */
function reconcile() {
  const mine = me.value?.id;
  const offered = new Map(feeds.value.filter((f) => f.user !== mine).map((f) => [f.id, f]));
  const viaStream = carriedFeeds();
  batch(() => {
    for (const id of [...peers.keys()]) {
      if (!offered.has(id) || !wanted.has(id) || viaStream.has(id)) stopReceiving(id, offered.has(id));
    }
    for (const [id, feed] of offered) if (wanted.has(id) && !peers.has(id) && !viaStream.has(id)) receive(feed);
    setReceived();
  });
}

/** The views say which feeds they show (visible tiles, the screen); only those are received. */
export function setWanted(ids) {
  const next = new Set(ids);
  if (next.size === wanted.size && [...next].every((id) => wanted.has(id))) return;
  wanted = next;
  reconcile();
}

// ------------------------------------------------------------------- from the server --
/** Consumes media messages and the answers to the engine's requests (store.intercept). */
export function handle(m) {
  if (answered(m)) return true;
  switch (m.type) {
    case "media.feeds":
      feeds.value = m.feeds;
      reconcile();
      return true;
    case "media.lost":
      recover(m.what);
      return true;
    case "media.listen.relayed":
      carried = m.relayed || {};
      reconcile();
      layerViaStream();
      return true;
    case "media.stopped":
      unpublish(m.kind, false);
      toast(t(m.kind === "camera" ? "cameraStopped" : "screenStopped"));
      return true;
    default:
      return false;
  }
}

// The server lost a piece (or the media server restarted): negotiate it again.
function recover(what) {
  if (what === "all" || what === "audio" || what === "listen") {
    if (audioWanted === "listen" && (what !== "audio" || !listenPc)) listen().catch(() => {});
    else if (audioWanted === "mic" && what !== "listen") joinAudio(false).catch(() => {});
  }
  for (const kind of ["camera", "screen"]) {
    const entry = publishers.get(kind);
    if (entry && (what === "all" || what === kind)) publish(kind, entry.stream).catch(() => {});
  }
  for (const entry of [...peers.values()]) {
    if (what === "all" || what === `subscription:${entry.feed.id}`) receive(entry.feed);
  }
}

/** The welcome (first or after a reconnection): media settings and feeds. Returns whether it
 * is the first, when the page's join flow (audio, webcam) should run. */
export function welcome(m) {
  const media = m.media || {};
  available.value = Boolean(media.available);
  iceServers = media.iceServers || [];
  feeds.value = m.feeds || [];
  reconcile();
  if (started) return false;
  started = true;
  return available.value;
}

/** The presenter role went away: its screen share ended on the server. */
export function presenterLost() {
  unpublish("screen", false);
}

export function leaveAll() {
  stopEcho(false, false);
  audioWanted = null;
  stopStream(micStream.value);
  micStream.value = null;
  closeAudio();
  for (const kind of [...publishers.keys()]) unpublish(kind, false);
  for (const id of [...peers.keys()]) stopReceiving(id, false);
  setReceived();
}

// ------------------------------------------------------------------ moderators' tools --
export const muteUser = (user, muted) =>
  request({ type: "media.audio.mute", user, muted }).catch((e) => toast(e.message, { kind: "error" }));
export const muteAll = () =>
  request({ type: "media.audio.mute_all", muted: true }).catch((e) => toast(e.message, { kind: "error" }));
export const ejectCamera = (user) =>
  request({ type: "media.unpublish", kind: "camera", user }).catch((e) => toast(e.message, { kind: "error" }));

// ---------------------------------------------------------------------------- stats --
/** Every peer connection with what it carries, for the connection indicator. */
export function connections() {
  const out = [];
  if (audioPc) out.push({ key: "audio", kind: "audio", pc: audioPc, own: true });
  if (listenPc) out.push({ key: "listen", kind: "audio", pc: listenPc, own: true });
  for (const [kind, e] of publishers) if (e.pc) out.push({ key: kind, kind, pc: e.pc, own: true });
  for (const [id, e] of peers) if (e.pc) out.push({ key: `feed-${id}`, kind: e.feed.kind, user: e.feed.user, pc: e.pc, own: false });
  return out;
}

// For people diagnosing a call (and the browser tests): what each connection carries.
export async function stats() {
  const out = { audio: null, listen: null, echo: null, echoTests, feeds: {}, published: {}, subscriptions: peers.size };
  const summarize = async (pc) => {
    const report = await pc.getStats();
    const s = { state: pc.connectionState, bytesIn: 0, bytesOut: 0, energyIn: 0, framesDecoded: 0, framesSent: 0 };
    report.forEach((r) => {
      if (r.type === "inbound-rtp") {
        s.bytesIn += r.bytesReceived || 0;
        s.framesDecoded += r.framesDecoded || 0;
        s.energyIn += r.totalAudioEnergy || 0;
        if (r.kind === "video" && r.frameWidth) [s.frameWidth, s.frameHeight] = [r.frameWidth, r.frameHeight];
      } else if (r.type === "outbound-rtp") {
        s.bytesOut += r.bytesSent || 0;
        s.framesSent += r.framesEncoded || 0;
        // Simulcast: one report per layer, each with its rid and size.
        if (r.rid) (s.layers ||= {})[r.rid] = { width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesSent || 0 };
      }
    });
    return s;
  };
  if (audioPc) {
    const mic = micStream.value?.getAudioTracks()[0];
    out.audio = { mode: audioMode.value, via: "bridge", micLabel: mic ? mic.label : null, ...(await summarize(audioPc)) };
  }
  // `audio` is what this page hears: the bridge's mix, or else the forwarded one.
  // On a relay node: which feeds the stream carries (shown from it, not subscribed to).
  if (listenPc) {
    const layer = carried.camera == null ? null : chosenLayer(carried.camera);
    out.listen = { mode: audioMode.value, via: "stream", relayed: { ...carried }, shown: [...carriedFeeds().keys()], layer, ...(await summarize(listenPc)) };
  }
  if (!out.audio && out.listen) out.audio = { ...out.listen, micLabel: null };
  const echoing = echoPc;
  if (echoing) {
    const summary = await summarize(echoing);
    // The test may have stopped while its statistics were read: then there is none to report.
    if (echoPc === echoing) out.echo = { ...summary, playing: echo.value?.state === "playing" };
  }
  for (const [id, e] of peers) {
    if (e.pc) out.feeds[id] = { kind: e.feed.kind, user: e.feed.user, layer: chosenLayer(id), ...(await summarize(e.pc)) };
  }
  for (const [kind, e] of publishers) {
    if (!e.pc) continue;
    const track = e.stream.getVideoTracks()[0];
    out.published[kind] = { feed: e.feed, label: track ? track.label : null, ...(await summarize(e.pc)) };
  }
  return out;
}
