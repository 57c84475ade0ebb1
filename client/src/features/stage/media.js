// Audio, webcams and screen sharing. Every negotiation goes through the room's WebSocket (the
// server relays it to the media server and checks who may do what); SDP is sent whole, after
// ICE gathering. One RTCPeerConnection per piece: the audio (mix in, microphone out), each
// published feed, and each feed received. A piece whose connection fails is negotiated again.

const GATHER_MS = 2500;
const RECONNECT_AFTER_MS = 4000;
const QUALITIES = {
  low: { width: 320, height: 240, frameRate: 15 },
  medium: { width: 640, height: 480, frameRate: 15 },
  high: { width: 1280, height: 720, frameRate: 30 },
  hd: { width: 1920, height: 1080, frameRate: 30 },
};

export function createMedia({ send, t, toast, state, el, render }) {
  const pending = new Map();
  let nextRef = 1;
  let iceServers = [];
  let available = false;
  let started = false;
  const audio = { pc: null, mode: null, mic: null, wanted: null };
  const published = new Map(); // kind -> { pc, stream, feed }
  const received = new Map(); // feed id -> { pc, feed, tile }
  let feeds = [];
  const problems = new Set();
  // join's userdata-bbb_* settings (BBB's client options); absent ones take BBB's defaults.
  const setting = (key, byDefault) => {
    const value = (state.userdata || {})[key];
    return value === undefined ? byDefault : String(value).toLowerCase() === "true";
  };
  const mirrored = () => setting("bbb_mirror_own_webcam", false);
  // bbb_force_listen_only does not apply to moderators (as they are now).
  const forcedListenOnly = () => setting("bbb_force_listen_only", false) && state.me.role !== "MODERATOR";
  const preferredProfile = () => {
    const profile = String((state.userdata || {}).bbb_preferred_camera_profile || "").toLowerCase();
    return Object.hasOwn(QUALITIES, profile) ? profile : null;
  };

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
      const done = () => {
        if (pc.iceGatheringState === "complete") resolve();
      };
      pc.addEventListener("icegatheringstatechange", done);
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

  // A connection that fails (or stays disconnected) is set up again from scratch.
  function watch(pc, name, again) {
    let timer = null;
    pc.addEventListener("connectionstatechange", () => {
      const s = pc.connectionState;
      if (s === "connected") {
        clearTimeout(timer);
        problems.delete(name);
        showProblems();
      } else if (s === "failed" || s === "disconnected") {
        problems.add(name);
        showProblems();
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (pc.connectionState !== "connected" && pc.signalingState !== "closed") again();
        }, s === "failed" ? 0 : RECONNECT_AFTER_MS);
      }
    });
  }

  function showProblems() {
    el("media-status").hidden = problems.size === 0;
    el("media-status").textContent = t("mediaReconnecting");
  }

  async function retrying(what, attempt) {
    for (let i = 0; i < 6; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (["locked", "forbidden", "disabled", "camera_cap", "not_found", "bad_sdp"].includes(error.code) || i === 5) {
          toast(error.message);
          throw error;
        }
        await new Promise((r) => setTimeout(r, 500 * 2 ** i));
      }
    }
    throw new Error(what);
  }

  // ------------------------------------------------------------------------- audio --
  async function joinAudio(listenOnly) {
    audio.wanted = listenOnly ? "listen" : "mic";
    closeAudio();
    let mic = null;
    if (!listenOnly) mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    await retrying("audio", async () => {
      const pc = peer();
      if (mic) pc.addTrack(mic.getAudioTracks()[0], mic);
      else pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addEventListener("track", (event) => {
        el("audio-out").srcObject = event.streams[0] || new MediaStream([event.track]);
      });
      try {
        const sdp = await localOffer(pc);
        const reply = await request({ type: "media.audio.join", sdp, listenOnly });
        await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
      } catch (error) {
        pc.close();
        throw error;
      }
      audio.pc = pc;
      audio.mic = mic;
      audio.mode = audio.wanted;
      watch(pc, "audio", () => joinAudio(audio.mode === "listen").catch(() => {}));
    });
    render();
  }

  function closeAudio() {
    if (audio.pc) audio.pc.close();
    audio.pc = null;
    audio.mode = null;
    problems.delete("audio");
  }

  async function leaveAudio() {
    audio.wanted = null;
    if (audio.mic) for (const track of audio.mic.getTracks()) track.stop();
    audio.mic = null;
    closeAudio();
    await request({ type: "media.audio.leave" }).catch(() => {});
    render();
  }

  async function setMuted(muted) {
    await request({ type: "media.audio.mute", muted }).catch((e) => toast(e.message));
  }

  // Echo of the mute state the server decided (it may be a moderator's doing).
  function applyMute() {
    const me = state.me;
    if (audio.mic && me) for (const track of audio.mic.getAudioTracks()) track.enabled = !me.muted;
  }

  // ------------------------------------------------------------------------ publish --
  async function publish(kind, stream) {
    const old = published.get(kind);
    if (old && old.pc) old.pc.close();
    const entry = { pc: null, stream, feed: null };
    published.set(kind, entry);
    const track = stream.getVideoTracks()[0];
    track.addEventListener("ended", () => unpublish(kind));
    await retrying(kind, async () => {
      const pc = peer();
      pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
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
      watch(pc, kind, () => publish(kind, stream).catch(() => {}));
    }).catch((error) => {
      published.delete(kind);
      for (const t of stream.getTracks()) t.stop();
      throw error;
    });
    showTile(`self-${kind}`, stream, state.me, kind, true);
    render();
  }

  async function unpublish(kind, tell = true) {
    const entry = published.get(kind);
    if (!entry) return;
    published.delete(kind);
    if (entry.pc) entry.pc.close();
    for (const track of entry.stream.getTracks()) track.stop();
    removeTile(`self-${kind}`);
    problems.delete(kind);
    if (tell) await request({ type: "media.unpublish", kind }).catch(() => {});
    render();
  }

  async function shareCamera(quality) {
    const video = QUALITIES[quality] || QUALITIES.medium;
    const stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    await publish("camera", stream);
  }

  async function shareScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    await publish("screen", stream);
  }

  // ------------------------------------------------------------------------ receive --
  async function receive(feed) {
    const old = received.get(feed.id);
    if (old && old.pc) old.pc.close();
    const entry = { pc: null, feed };
    received.set(feed.id, entry);
    await retrying(`feed ${feed.id}`, async () => {
      if (!received.has(feed.id)) return;
      const offer = await request({ type: "media.subscribe", feed: feed.id });
      const pc = peer();
      pc.addEventListener("track", (event) => {
        const user = state.users.get(feed.user) || { name: "" };
        showTile(`feed-${feed.id}`, event.streams[0] || new MediaStream([event.track]), user, feed.kind, false);
      });
      try {
        await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        await request({ type: "media.answer", feed: feed.id, sdp: pc.localDescription.sdp });
      } catch (error) {
        pc.close();
        throw error;
      }
      if (!received.has(feed.id)) return pc.close();
      entry.pc = pc;
      watch(pc, `feed-${feed.id}`, () => receive(feed).catch(() => {}));
    }).catch(() => {});
  }

  function stopReceiving(id) {
    const entry = received.get(id);
    received.delete(id);
    if (entry && entry.pc) entry.pc.close();
    removeTile(`feed-${id}`);
    problems.delete(`feed-${id}`);
  }

  function setFeeds(list) {
    feeds = list;
    const wanted = new Set(list.filter((f) => state.me && f.user !== state.me.id).map((f) => f.id));
    for (const id of [...received.keys()]) if (!wanted.has(id)) stopReceiving(id);
    for (const feed of list) if (wanted.has(feed.id) && !received.has(feed.id)) receive(feed);
  }

  // --------------------------------------------------------------------------- tiles --
  function showTile(id, stream, user, kind, mine) {
    let tile = document.getElementById(id);
    if (!tile) {
      tile = document.createElement("figure");
      tile.id = id;
      tile.className = `tile ${kind}`;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true; // voices come through the audio mix
      const caption = document.createElement("figcaption");
      tile.append(video, caption);
      el(kind === "screen" ? "screens" : "videos").append(tile);
    }
    tile.dataset.user = user.id || "";
    tile.classList.toggle("mirrored", mine && kind === "camera" && mirrored());
    tile.querySelector("figcaption").textContent = mine ? `${user.name} (${t("you")})` : user.name;
    const video = tile.querySelector("video");
    if (video.srcObject !== stream) video.srcObject = stream;
  }

  function removeTile(id) {
    const tile = document.getElementById(id);
    if (tile) tile.remove();
  }

  // ---------------------------------------------------------------- from the server --
  function handle(m) {
    if (answered(m)) return true;
    switch (m.type) {
      case "media.feeds":
        setFeeds(m.feeds);
        return true;
      case "media.lost":
        recover(m.what);
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
    if (what === "all" || what === "audio") {
      if (audio.wanted) joinAudio(audio.wanted === "listen").catch(() => {});
    }
    for (const kind of ["camera", "screen"]) {
      const entry = published.get(kind);
      if (entry && (what === "all" || what === kind)) publish(kind, entry.stream).catch(() => {});
    }
    for (const entry of [...received.values()]) {
      if (what === "all" || what === `subscription:${entry.feed.id}`) receive(entry.feed);
    }
  }

  async function welcome(m) {
    const media = m.media || {};
    available = Boolean(media.available);
    iceServers = media.iceServers || [];
    setFeeds(m.feeds || []);
    if (started) return;
    started = true;
    render();
    if (!available) return;
    const data = m.userdata || {};
    const flag = (key, byDefault) => (data[key] === undefined ? byDefault : String(data[key]).toLowerCase() === "true");
    if (flag("bbb_auto_join_audio", true)) await chooseAudio(data).catch((e) => toast(e.message));
    if (flag("bbb_auto_share_webcam", false) && canShareCamera()) {
      if (flag("bbb_skip_video_preview", false)) await shareCamera(preferredProfile() || "medium").catch((e) => toast(e.message));
      else openCameraPreview();
    }
  }

  // BBB's audio choice: microphone (after a check, unless skipped) or listen-only.
  async function chooseAudio(data) {
    const flag = (key, byDefault) => (data[key] === undefined ? byDefault : String(data[key]).toLowerCase() === "true");
    // Forcing listen-only offers it to moderators even when bbb_listen_only_mode is false (BBB).
    const listenOffered = flag("bbb_listen_only_mode", true) || flag("bbb_force_listen_only", false);
    const skipCheck = flag("bbb_skip_check_audio", false);
    const micLocked = state.me.role === "VIEWER" && state.locks.disableMic;
    if (micLocked || forcedListenOnly()) return joinAudio(true);
    if (!listenOffered) return skipCheck ? joinAudio(false) : micCheck();
    const dialog = el("audio-dialog");
    dialog.showModal();
    const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
    if (choice === "listen") return joinAudio(true);
    if (choice === "mic") return skipCheck ? joinAudio(false) : micCheck();
    return undefined;
  }

  // The microphone check: the user sees their level move before joining with it.
  async function micCheck() {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const meter = el("mic-level");
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s - 128));
      meter.value = peak / 128;
    }, 100);
    const dialog = el("mic-dialog");
    dialog.showModal();
    const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
    clearInterval(timer);
    context.close();
    for (const track of stream.getTracks()) track.stop();
    if (choice === "ok") return joinAudio(false);
    if (choice === "listen") return joinAudio(true);
    return undefined;
  }

  let preview = null;
  let profileOffered = false;
  async function openCameraPreview() {
    const dialog = el("camera-dialog");
    const quality = el("camera-quality");
    // bbb_preferred_camera_profile is preselected the first time; later the user's last choice.
    if (!profileOffered && preferredProfile()) quality.value = preferredProfile();
    profileOffered = true;
    el("camera-preview").classList.toggle("mirrored", mirrored());
    const show = async () => {
      if (preview) for (const track of preview.getTracks()) track.stop();
      preview = await navigator.mediaDevices.getUserMedia({ video: QUALITIES[quality.value], audio: false });
      el("camera-preview").srcObject = preview;
    };
    quality.onchange = () => show().catch((e) => toast(e.message));
    await show();
    dialog.showModal();
    const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
    const stream = preview;
    preview = null;
    el("camera-preview").srcObject = null;
    if (choice === "share") return publish("camera", stream);
    for (const track of stream.getTracks()) track.stop();
    return undefined;
  }

  function canShareCamera() {
    return available && !(state.me.role === "VIEWER" && state.locks.disableCam);
  }

  function canShareScreen() {
    return available && state.me.presenter && !(state.meeting.disabledFeatures || []).includes("screenshare");
  }

  // What the page's buttons show.
  function view() {
    return {
      available,
      audio: audio.mode,
      camera: published.has("camera"),
      screen: published.has("screen"),
      canShareCamera: state.me ? canShareCamera() : false,
      canShareScreen: state.me ? canShareScreen() : false,
    };
  }

  // For people diagnosing a call (and the browser tests): what each connection carries.
  async function stats() {
    const out = { audio: null, feeds: {}, published: {} };
    const summarize = async (pc) => {
      const report = await pc.getStats();
      const s = { state: pc.connectionState, bytesIn: 0, bytesOut: 0, energyIn: 0, framesDecoded: 0, framesSent: 0 };
      report.forEach((r) => {
        if (r.type === "inbound-rtp") {
          s.bytesIn += r.bytesReceived || 0;
          s.framesDecoded += r.framesDecoded || 0;
          s.energyIn += r.totalAudioEnergy || 0;
        } else if (r.type === "outbound-rtp") {
          s.bytesOut += r.bytesSent || 0;
          s.framesSent += r.framesEncoded || 0;
        }
      });
      return s;
    };
    if (audio.pc) out.audio = { mode: audio.mode, ...(await summarize(audio.pc)) };
    for (const [id, entry] of received) if (entry.pc) out.feeds[id] = { kind: entry.feed.kind, user: entry.feed.user, ...(await summarize(entry.pc)) };
    for (const [kind, entry] of published) if (entry.pc) out.published[kind] = { feed: entry.feed, ...(await summarize(entry.pc)) };
    return out;
  }

  function leaveAll() {
    closeAudio();
    for (const kind of [...published.keys()]) unpublish(kind, false);
    for (const id of [...received.keys()]) stopReceiving(id);
  }

  return {
    handle, welcome, view, stats, applyMute, leaveAll,
    joinAudio, leaveAudio, setMuted, chooseAudio, openCameraPreview, shareCamera, shareScreen,
    unpublish, feeds: () => feeds,
    muteUser: (user, muted) => request({ type: "media.audio.mute", user, muted }).catch((e) => toast(e.message)),
    muteAll: () => request({ type: "media.audio.mute_all", muted: true }).catch((e) => toast(e.message)),
    ejectCamera: (user) => request({ type: "media.unpublish", kind: "camera", user }).catch((e) => toast(e.message)),
  };
}
