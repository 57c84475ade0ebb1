// The dialogs of the join steps (flows.js): how to join the audio, the microphone check with a
// live level, and the webcam preview with the device, quality and mirror.
import { useEffect, useRef, useState } from "preact/hooks";
import { Headphones, Mic } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { flag, toast } from "../../core/store.js";
import { Modal } from "../../ui/Modal.jsx";
import { devices, prefs, refreshDevices, savePref, useLevel } from "./devices.js";
import { answer, asking, listenOffered } from "./flows.js";
import { openCamera, stopStream } from "./media.js";
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

function MicCheck() {
  const open = asking.value?.kind === "mic";
  const device = prefs.value.microphone;
  const stream = useMicPreview(open, device);
  const level = useLevel(stream);
  return (
    <Modal id="mic-dialog" open={open} title={t("micTitle")} onClose={closeAs("mic")}>
      <p class="dialog-lead">{t("micCheck")}</p>
      <DeviceSelect id="mic-device" kind="audioinput" label={t("microphone")} value={device} onChange={(v) => savePref("microphone", v)} />
      <Meter id="mic-level" level={level} />
      <footer class="modal-actions">
        {listenOffered() && <button value="listen" class="secondary">{t("listenOnly")}</button>}
        <button value="ok">{t("micWorks")}</button>
      </footer>
    </Modal>
  );
}

function CameraPreview() {
  const ask = asking.value?.kind === "camera" ? asking.value : null;
  const [quality, setQuality] = useState("medium");
  const [stream, setStream] = useState(null);
  const current = useRef(null);
  const device = prefs.value.camera;
  const mirrored = prefs.value.mirror ?? flag("bbb_mirror_own_webcam", false);
  useEffect(() => {
    if (ask) setQuality(ask.quality);
  }, [ask]);
  useEffect(() => {
    if (!ask) return undefined;
    let live = true;
    openCamera(quality, device)
      .then((s) => {
        if (!live) return stopStream(s);
        stopStream(current.current);
        current.current = s;
        setStream(s);
        return refreshDevices();
      })
      .catch((e) => live && toast(e.message, { kind: "error" }));
    return () => {
      live = false;
    };
  }, [ask, quality, device]);
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
        <label class="field">
          <span class="field-label">{t("quality")}</span>
          <select id="camera-quality" value={quality} onChange={(e) => { setQuality(e.currentTarget.value); savePref("quality", e.currentTarget.value); }}>
            <option value="low">{t("qualityLow")}</option>
            <option value="medium">{t("qualityMedium")}</option>
            <option value="high">{t("qualityHigh")}</option>
            <option value="hd">{t("qualityHd")}</option>
          </select>
        </label>
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
      <MicCheck />
      <CameraPreview />
    </>
  );
}
