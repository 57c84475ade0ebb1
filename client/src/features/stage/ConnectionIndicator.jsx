// The top bar's connection indicator: every media connection's delay (RTT), packet loss and
// jitter from getStats, one quality level for all with a popover listing them, a warning when
// my own connection degrades, and the data-saving switch (others' webcams off).
import { computed, signal } from "@preact/signals";
import { useRef, useState } from "preact/hooks";
import { useCloseOnOutside } from "../../ui/popover.js";
import { Signal, SignalHigh, SignalLow, SignalMedium, WifiOff } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { toast, users } from "../../core/store.js";
import { othersCamerasOff, setOthersCamerasOff } from "./layouts.js";
import { available, connections, problems } from "./media.js";

const EVERY_MS = 2000;
const WARN_AGAIN_MS = 60000;

/** key -> { key, kind, user, own, rtt (ms), loss (%), jitter (ms), level } */
export const linkStats = signal([]);
export const level = computed(() => {
  if (problems.value.size) return "poor";
  const links = linkStats.value;
  if (!links.length) return "none";
  const worst = Math.max(...links.map((l) => RANK[l.level]));
  return ["good", "fair", "poor"][worst];
});
const RANK = { good: 0, fair: 1, poor: 2 };

function rate({ rtt, loss, jitter }) {
  if (rtt > 400 || loss > 8 || jitter > 60) return "poor";
  if (rtt > 200 || loss > 3 || jitter > 30) return "fair";
  return "good";
}

const previous = new Map(); // key -> { lost, received }

async function measure(link) {
  const report = await link.pc.getStats();
  let rtt = null;
  let jitter = 0;
  let lost = 0;
  let got = 0;
  report.forEach((r) => {
    if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && r.currentRoundTripTime !== undefined) {
      rtt = r.currentRoundTripTime * 1000;
    } else if (r.type === "inbound-rtp") {
      jitter = Math.max(jitter, (r.jitter || 0) * 1000);
      lost += r.packetsLost || 0;
      got += r.packetsReceived || 0;
    } else if (r.type === "remote-inbound-rtp") {
      // What the other end says about what I send.
      if (rtt === null && r.roundTripTime !== undefined) rtt = r.roundTripTime * 1000;
      jitter = Math.max(jitter, (r.jitter || 0) * 1000);
      lost += r.packetsLost || 0;
      got += r.packetsReceived || 0;
    }
  });
  const before = previous.get(link.key) || { lost: 0, got: 0 };
  previous.set(link.key, { lost, got });
  const dLost = Math.max(0, lost - before.lost);
  const dGot = Math.max(0, got - before.got);
  const loss = dLost + dGot ? (dLost / (dLost + dGot)) * 100 : 0;
  const out = { key: link.key, kind: link.kind, user: link.user, own: link.own, rtt: rtt ?? 0, loss, jitter };
  return { ...out, level: rate(out) };
}

let started = false;
let badSamples = 0;
let warnedAt = 0;

/** Samples every connection every 2 s while the page lives. */
export function startMonitor() {
  if (started) return;
  started = true;
  setInterval(async () => {
    const links = connections();
    const seen = new Set(links.map((l) => l.key));
    for (const key of [...previous.keys()]) if (!seen.has(key)) previous.delete(key);
    const measured = (await Promise.all(links.map((l) => measure(l).catch(() => null)))).filter(Boolean);
    linkStats.value = measured;
    // My own connection: what I send and the mix I receive.
    const mine = measured.filter((l) => l.own);
    badSamples = mine.some((l) => l.level === "poor") ? badSamples + 1 : 0;
    if (badSamples >= 2 && Date.now() - warnedAt > WARN_AGAIN_MS) {
      warnedAt = Date.now();
      const receivingCameras = measured.some((l) => !l.own && l.kind === "camera");
      toast(t(receivingCameras && !othersCamerasOff.value ? "connDegradedSaver" : "connDegraded"), { kind: "error", ms: 8000 });
    }
  }, EVERY_MS);
}

const ICONS = { good: SignalHigh, fair: SignalMedium, poor: SignalLow, none: Signal };
const LABELS = { good: "connGood", fair: "connFair", poor: "connPoor", none: "connNone" };

function linkName(l) {
  if (l.own) return t(l.kind === "audio" ? "connYourAudio" : l.kind === "camera" ? "connYourCamera" : "connYourScreen");
  const name = users.value.get(l.user)?.name || "";
  return t(l.kind === "screen" ? "connFromScreen" : "connFromCamera", { name });
}

export function ConnectionIndicator() {
  const [open, setOpen] = useState(false);
  const root = useRef(null);
  useCloseOnOutside(open, root, () => setOpen(false));
  if (!available.value) return null;
  const now = level.value;
  const Icon = problems.value.size ? WifiOff : ICONS[now];
  const label = `${t("connection")}: ${t(LABELS[now])}`;
  return (
    <div class="conn" ref={root} onKeyDown={(e) => { if (e.key === "Escape") setOpen(false); }}>
      <button
        type="button"
        id="connection"
        class={`ghost icon-only conn-button level-${now}`}
        aria-label={label}
        data-tooltip={label}
        aria-expanded={String(open)}
        aria-controls="connection-details"
        data-level={now}
        onClick={() => setOpen(!open)}
      >
        <Icon size={20} aria-hidden="true" />
      </button>
      {open && (
        <div id="connection-details" class="conn-popover" role="dialog" aria-label={t("connection")}>
          <p class={`conn-summary level-${now}`}>{t(LABELS[now])}</p>
          {linkStats.value.length > 0 && (
            <table class="conn-table">
              <thead>
                <tr><th scope="col"><span class="visually-hidden">{t("connection")}</span></th><th scope="col">{t("rtt")}</th><th scope="col">{t("loss")}</th><th scope="col">{t("jitter")}</th></tr>
              </thead>
              <tbody>
                {linkStats.value.map((l) => (
                  <tr key={l.key} data-link={l.key} class={`level-${l.level}`}>
                    <th scope="row"><span class={`dot level-${l.level}`} aria-hidden="true" />{linkName(l)}</th>
                    <td>{t("ms", { n: Math.round(l.rtt) })}</td>
                    <td>{t("percent", { n: l.loss.toFixed(1) })}</td>
                    <td>{t("ms", { n: Math.round(l.jitter) })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <label class="check">
            <input id="conn-data-saver" type="checkbox" checked={othersCamerasOff.value} onChange={(e) => setOthersCamerasOff(e.currentTarget.checked)} />
            <span>{t("dataSaver")}</span>
          </label>
        </div>
      )}
    </div>
  );
}
