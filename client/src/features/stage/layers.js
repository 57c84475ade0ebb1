// Simulcast: which layer of each webcam this browser publishes and receives. A webcam captured
// large enough goes out in three layers (a quarter, half and all of its width) or two; for each
// webcam received, the server is told which layer to forward (`media.quality`): the smallest that
// fills the tile on screen, lowered while the connection measures short of bandwidth. The webcam
// a listen-only stream carries on a relay node gets the same choice (`media.listen.layer`).
// Screens are one layer at full quality. See docs/decisions.md, "Simulcast".
import { carriedCamera, chooseLayer, receivingPeers, streamPeer } from "./media.js";

/** Janus' substreams 0, 1, 2, lowest first: rid and bitrate cap (bit/s). From a 720p capture
 * they are a quarter, half and all of its width (320, 640, 1280). */
export const LAYERS = [
  { rid: "q", maxBitrate: 150_000 },
  { rid: "h", maxBitrate: 500_000 },
  { rid: "f", maxBitrate: 1_200_000 },
];
/** The layers' widths for a 1280×720 capture: what a tile is compared with. */
const NOMINAL_WIDTH = [320, 640, 1280];
/** A layer may be stretched this much before the next one up is wanted. */
const STRETCH = 1.25;
/** Chromium's simulcast table: three layers from a capture about 540 lines tall, two from
 * about 270 (fewer than asked are sent, and the top ones dropped, below that). */
const THREE_FROM = 540;
const TWO_FROM = 270;
const RESIZE_MS = 400;
const SAMPLE_MS = 3000;
/** Packet loss that lowers the layers, and under which they may go back up. */
const LOSSY = 0.05;
const CLEAN = 0.01;
const CLEAN_SAMPLES_TO_RAISE = 3;

/** The encodings for a published track: for a webcam, as many simulcast layers as its capture
 * allows (three from 720p: q, h, f; two from 640×480: q, h, the top at the capture's size, so
 * the rids keep naming the same nominal sizes and substreams); one layer for anything else.
 * The order is highest first, as Janus reads the rids of an offer (high to low) by default. */
export function encodingsFor(kind, track) {
  if (kind !== "camera") return undefined;
  const height = track.getSettings?.().height || 0;
  const count = height >= THREE_FROM ? 3 : height >= TWO_FROM ? 2 : 1;
  if (count < 2) return undefined;
  return LAYERS.slice(0, count)
    .reverse()
    .map(({ rid, maxBitrate }, i) => ({ rid, scaleResolutionDownBy: 2 ** i, maxBitrate, active: true }));
}

/** The smallest layer that fills `pixels` device pixels of width. */
export function layerForWidth(pixels) {
  const layer = NOMINAL_WIDTH.findIndex((w) => pixels <= w * STRETCH);
  return layer === -1 ? NOMINAL_WIDTH.length - 1 : layer;
}

const tiles = new Map(); // feed id -> device pixels of width of its tile (the largest, if two)
const sent = new Map(); // feed id -> { pc, layer } told to the server for that subscription
const timers = new Map();
let cap = LAYERS.length - 1; // lowered while the network is short
let clean = 0;
let sampler = null;
const last = new Map(); // pc -> { lost, received } at the previous sample

function wanted(feedId) {
  const width = tiles.get(feedId);
  const bySize = width === undefined ? 0 : layerForWidth(width);
  return Math.min(bySize, cap);
}

/** Tells the server the layer this subscription should get, when it changed. */
function apply(feedId) {
  const peer = receivingPeers().get(feedId) || streamPeer(feedId);
  if (!peer || !peer.pc || peer.feed.kind !== "camera") return;
  const layer = wanted(feedId);
  const before = sent.get(feedId);
  if (before && before.pc === peer.pc && before.layer === layer) return;
  sent.set(feedId, { pc: peer.pc, layer });
  chooseLayer(feedId, layer).catch(() => sent.delete(feedId));
}

/** A tile showing a webcam measured itself (CSS pixels); null when it goes away. */
export function tileSize(feedId, width, height) {
  if (width === null) tiles.delete(feedId);
  else {
    // A tall tile crops a 16:9 picture to its height.
    const pixels = Math.max(width, (height * 16) / 9) * (window.devicePixelRatio || 1);
    tiles.set(feedId, Math.round(pixels));
  }
  clearTimeout(timers.get(feedId));
  timers.set(feedId, setTimeout(() => apply(feedId), RESIZE_MS));
  startSampling();
}

/** A subscription was set up (or set up again): it starts at the layer its tile wants. */
export function subscribed(feedId) {
  sent.delete(feedId);
  apply(feedId);
  startSampling();
}

export function unsubscribed(feedId) {
  sent.delete(feedId);
}

/** The layer last asked for each feed (for stats()). */
export const chosenLayer = (feedId) => sent.get(feedId)?.layer ?? null;

/** The connections a webcam comes on: each subscription, and the listen stream when it carries
 * one (a relay node's); the bandwidth cap is measured on them and applies to them all. */
function sampled() {
  const out = [...receivingPeers().values()].filter((p) => p.pc && p.feed.kind === "camera");
  const id = carriedCamera();
  const viaStream = id === null ? null : streamPeer(id);
  if (viaStream) out.push(viaStream);
  return out;
}

// Bandwidth: the received webcams' packet loss, and the receive-side estimate where the browser
// gives one (candidate-pair availableIncomingBitrate), lower every layer one step at a time;
// a clean network for a while raises them again.
async function sample() {
  const peers = sampled();
  if (peers.length === 0) return;
  let short = false;
  let worst = 0;
  for (const { pc, feed } of peers) {
    const report = await pc.getStats();
    let lost = 0;
    let received = 0;
    let available = null;
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        lost += r.packetsLost || 0;
        received += r.packetsReceived || 0;
      } else if (r.type === "candidate-pair" && r.nominated && typeof r.availableIncomingBitrate === "number") {
        available = r.availableIncomingBitrate;
      }
    });
    const previous = last.get(pc) || { lost: 0, received: 0 };
    last.set(pc, { lost, received });
    const dLost = Math.max(0, lost - previous.lost);
    const total = dLost + Math.max(0, received - previous.received);
    if (total > 0) worst = Math.max(worst, dLost / total);
    const layer = sent.get(feed.id)?.layer;
    if (available !== null && layer !== undefined && available < LAYERS[layer].maxBitrate) short = true;
  }
  for (const pc of [...last.keys()]) if (pc.connectionState === "closed") last.delete(pc);
  if ((worst > LOSSY || short) && cap > 0) {
    cap -= 1;
    clean = 0;
  } else if (worst <= CLEAN && !short) {
    if (cap === LAYERS.length - 1 || ++clean < CLEAN_SAMPLES_TO_RAISE) return;
    cap += 1;
    clean = 0;
  } else {
    clean = 0;
    return;
  }
  for (const { feed } of peers) apply(feed.id);
}

function startSampling() {
  if (sampler) return;
  sampler = setInterval(() => {
    if (sampled().length === 0) {
      clearInterval(sampler);
      sampler = null;
      return;
    }
    sample().catch(() => {});
  }, SAMPLE_MS);
}
