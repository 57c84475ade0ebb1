// The dialogs of the join steps (flows.js): how to join the audio, the echo test (hearing one's
// own voice back, with a live level), the microphone check when the echo test cannot run, and
// the webcam preview with the device, quality and mirror.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { Headphones, Mic, RotateCcw } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { flag, toast } from "../../core/store.js";
import { Modal } from "../../ui/Modal.jsx";
import { applySink, canChooseSpeaker, devices, prefs, refreshDevices, savePref, useLevel } from "./devices.js";
import { answer, asking, echoAgain, echoNotHeard, echoStep, listenOffered } from "./flows.js";
import { echo, openCamera, stopStream } from "./media.js";
import { Video } from "./Tile.jsx";

const closeAs = (kind) => (value) => {
  if (asking.value?.kind === kind) answer(value);
};

export function Meter({ level, id }) {
  const bars = 12;
  const lit = Math.round(level * bars);
  return (
    <div class="level">
      <meter id={id} class="visually-hidden" min="0" max="1" value={level} aria-label={t("micLevel")} />
      <div class="level-bars" aria-hidden="true">
        {Array.from({ length: bars }, (_, i) => <span key={i} class={i < lit ? "lit" : ""} />)}
      </div>
    </div>
  );
}

/** A <select> of one kind of device; the first entry is the system's default. */
export function DeviceSelect({ id, kind, value, onChange, label }) {
  const list = devices.value[kind];
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <select id={id} value={value || ""} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{t("systemDefault")}</option>
        {list.filter((d) => d.deviceId !== "default" && d.deviceId !== "communications").map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>{d.label || t("deviceN", { n: i + 1 })}</option>
        ))}
      </select>
    </label>
  );
}

/** The webcam's quality (BBB's camera profiles), as a <select>. */
export function QualitySelect({ id, value, onChange }) {
  return (
    <label class="field">
      <span class="field-label">{t("quality")}</span>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="low">{t("qualityLow")}</option>
        <option value="medium">{t("qualityMedium")}</option>
        <option value="high">{t("qualityHigh")}</option>
        <option value="hd">{t("qualityHd")}</option>
      </select>
    </label>
  );
}

/**
 * A webcam stream for a preview, opened while `on` and opened again when `on` (a new value),
 * the quality or the device changes; the stream it replaces is stopped. A failure goes to
 * onError, or clears the preview when there is none. current holds the stream, for its owner to
 * stop or hand over.
 */
export function useCameraPreview(on, quality, deviceId, onError) {
  const [stream, setStream] = useState(null);
  const current = useRef(null);
  useEffect(() => {
    if (!on) return undefined;
    let live = true;
    openCamera(quality, deviceId)
      .then((s) => {
        if (!live) return stopStream(s);
        stopStream(current.current);
        current.current = s;
        setStream(s);
        return refreshDevices();
      })
      .catch((e) => live && (onError ? onError(e) : setStream(null)));
    return () => {
      live = false;
    };
  }, [on, quality, deviceId]);
  return { stream, setStream, current };
}

/** A microphone stream for a meter, opened while `on`, reopened when the chosen device changes. */
export function useMicPreview(on, deviceId) {
  const [stream, setStream] = useState(null);
  useEffect(() => {
    if (!on) return undefined;
    let live = true;
    let opened = null;
    const audio = deviceId ? { deviceId: { exact: deviceId } } : true;
    navigator.mediaDevices
      .getUserMedia({ audio, video: false })
      .catch(() => navigator.mediaDevices.getUserMedia({ audio: true, video: false }))
      .then((s) => {
        opened = s;
        if (live) setStream(s);
        else stopStream(s);
        return refreshDevices();
      })
      .catch(() => live && setStream(null));
    return () => {
      live = false;
      stopStream(opened);
      setStream(null);
    };
  }, [on, deviceId]);
  return stream;
}

function AudioChoice() {
  const open = asking.value?.kind === "audio";
  return (
    <Modal id="audio-dialog" open={open} title={t("audioTitle")} onClose={closeAs("audio")}>
      <p class="dialog-lead">{t("audioQuestion")}</p>
      <div class="choices">
        <button value="mic" class="choice">
          <span class="choice-icon"><Mic size={28} aria-hidden="true" /></span>
          <span class="choice-title">{t("microphone")}</span>
          <span class="choice-hint">{t("micHint")}</span>
        </button>
        <button value="listen" class="choice">
          <span class="choice-icon"><Headphones size={28} aria-hidden="true" /></span>
          <span class="choice-title">{t("listenOnly")}</span>
          <span class="choice-hint">{t("listenHint")}</span>
        </button>
      </div>
      <footer class="modal-actions">
        <button value="cancel" class="secondary">{t("cancel")}</button>
      </footer>
    </Modal>
  );
}

/** Plays my voice as the media server sends it back, through the chosen speaker. */
function EchoAudio({ stream }) {
  const ref = useRef(null);
  const speaker = prefs.value.speaker;
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (element.srcObject !== stream) element.srcObject = stream;
    if (stream) element.play().catch(() => {});
  }, [stream]);
  useEffect(() => applySink(ref.current, speaker), [speaker]);
  return <audio id="echo-audio" ref={ref} autoplay hidden />;
}

function EchoTest() {
  const open = asking.value?.kind === "echo";
  const step = echoStep.value;
  const running = echo.value;
  const playing = Boolean(running && running.state === "playing" && running.back);
  // While testing, the meter shows the microphone under test; on the devices step, a preview of
  // the one chosen.
  const preview = useMicPreview(open && step === "devices", prefs.value.microphone);
  const level = useLevel(step === "test" ? running?.mic || null : preview);
  // The button pressed ("No", "Try again") goes away with its step: focus moves to the next.
  const stepped = useRef(false);
  useLayoutEffect(() => {
    if (!open) {
      stepped.current = false;
      return;
    }
    if (stepped.current) document.getElementById(step === "devices" ? "echo-mic" : "echo-no")?.focus();
    stepped.current = true;
  }, [open, step]);
  return (
    <Modal id="echo-dialog" open={open} title={t("echoTitle")} onClose={closeAs("echo")}>
      <EchoAudio stream={open && step === "test" ? running?.back || null : null} />
      {step === "test" ? (
        <>
          <p class="dialog-lead">{t("echoLead")}</p>
          <p id="echo-status" class="echo-status" role="status">{playing ? t("echoQuestion") : t("echoConnecting")}</p>
          <Meter id="echo-level" level={level} />
          <footer class="modal-actions">
            {listenOffered() && <button value="listen" class="secondary">{t("listenOnly")}</button>}
            <button type="button" id="echo-no" class="secondary" onClick={echoNotHeard}>{t("echoNo")}</button>
            <button value="yes" id="echo-yes" disabled={!playing}>{t("echoYes")}</button>
          </footer>
        </>
      ) : (
        <>
          <p class="dialog-lead" id="echo-devices-lead">{t("echoDevices")}</p>
          <DeviceSelect id="echo-mic" kind="audioinput" label={t("microphone")} value={prefs.value.microphone} onChange={(v) => savePref("microphone", v)} />
          <Meter id="echo-devices-level" level={level} />
          {canChooseSpeaker && (
            <DeviceSelect id="echo-speaker" kind="audiooutput" label={t("speaker")} value={prefs.value.speaker} onChange={(v) => savePref("speaker", v)} />
          )}
          <footer class="modal-actions">
            {listenOffered() && <button value="listen" class="secondary">{t("listenOnly")}</button>}
            <button type="button" id="echo-retry" onClick={echoAgain}>
              <RotateCcw size={16} aria-hidden="true" />
              {t("echoRetry")}
            </button>
          </footer>
        </>
      )}
    </Modal>
  );
}

function MicCheck() {
  const ask = asking.value?.kind === "mic" ? asking.value : null;
  const open = Boolean(ask);
  const device = prefs.value.microphone;
  const stream = useMicPreview(open, device);
  const level = useLevel(stream);
  return (
    <Modal id="mic-dialog" open={open} title={t("micTitle")} onClose={closeAs("mic")}>
      {ask?.reason && <p id="mic-reason" class="notice-text" role="alert">{t(ask.reason)}</p>}
      <p class="dialog-lead">{t("micCheck")}</p>
      <DeviceSelect id="mic-device" kind="audioinput" label={t("microphone")} value={device} onChange={(v) => savePref("microphone", v)} />
      <Meter id="mic-level" level={level} />
      <footer class="modal-actions">
        {listenOffered() && <button value="listen" class="secondary">{t("listenOnly")}</button>}
        {/* Refused by the server: the microphone cannot be used, only listening. */}
        {!["echoLocked", "echoForbidden"].includes(ask?.reason) && <button value="ok">{t("micWorks")}</button>}
      </footer>
    </Modal>
  );
}

function CameraPreview() {
  const ask = asking.value?.kind === "camera" ? asking.value : null;
  const [quality, setQuality] = useState("medium");
  const device = prefs.value.camera;
  const mirrored = prefs.value.mirror ?? flag("bbb_mirror_own_webcam", false);
  useEffect(() => {
    if (ask) setQuality(ask.quality);
  }, [ask]);
  const { stream, setStream, current } = useCameraPreview(ask, quality, device, (e) => toast(e.message, { kind: "error" }));
  const close = (value) => {
    if (asking.value?.kind !== "camera") return;
    const s = current.current;
    current.current = null;
    setStream(null);
    answer({ value, stream: s });
  };
  return (
    <Modal id="camera-dialog" open={Boolean(ask)} title={t("cameraTitle")} onClose={close} wide>
      <div class="camera-preview-frame">
        <Video id="camera-preview" stream={stream} class={`camera-preview ${mirrored ? "mirrored" : ""}`} />
        {!stream && <span class="camera-preview-wait">{t("cameraStarting")}</span>}
      </div>
      <div class="fields-row">
        <DeviceSelect id="camera-device" kind="videoinput" label={t("camera")} value={device} onChange={(v) => savePref("camera", v)} />
        <QualitySelect id="camera-quality" value={quality} onChange={(v) => { setQuality(v); savePref("quality", v); }} />
      </div>
      <label class="check">
        <input id="camera-mirror" type="checkbox" checked={mirrored} onChange={(e) => savePref("mirror", e.currentTarget.checked)} />
        <span>{t("mirror")}</span>
      </label>
      <footer class="modal-actions">
        <button value="cancel" class="secondary">{t("cancel")}</button>
        <button value="share" disabled={!stream}>{t("startCamera")}</button>
      </footer>
    </Modal>
  );
}

export function MediaDialogs() {
  return (
    <>
      <AudioChoice />
      <EchoTest />
      <MicCheck />
      <CameraPreview />
    </>
  );
}
