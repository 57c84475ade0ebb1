// The devices this browser uses: microphone, speaker and webcam chosen in the settings (kept per
// browser in localStorage), the lists the browser offers, and a live level meter.
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { recallJson, remember } from "../../core/storage.js";

export const QUALITIES = {
  low: { width: 320, height: 240, frameRate: 15 },
  medium: { width: 640, height: 480, frameRate: 15 },
  high: { width: 1280, height: 720, frameRate: 30 },
  hd: { width: 1920, height: 1080, frameRate: 30 },
};

const KEY = "sala-devices";

function load() {
  return recallJson(KEY) || {};
}

/** { microphone, speaker, camera (device ids), quality, mirror (true/false/undefined) } */
export const prefs = signal(load());

export function savePref(name, value) {
  prefs.value = { ...prefs.value, [name]: value };
  remember(KEY, JSON.stringify(prefs.value));
}

/** The browser's devices: { audioinput: [], audiooutput: [], videoinput: [] }. */
export const devices = signal({ audioinput: [], audiooutput: [], videoinput: [] });

export async function refreshDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const list = await navigator.mediaDevices.enumerateDevices();
  const next = { audioinput: [], audiooutput: [], videoinput: [] };
  for (const d of list) if (next[d.kind] && d.deviceId) next[d.kind].push(d);
  devices.value = next;
}
navigator.mediaDevices?.addEventListener?.("devicechange", () => refreshDevices().catch(() => {}));

export const canChooseSpeaker = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;

export function audioConstraints() {
  const id = prefs.value.microphone;
  return id ? { deviceId: { exact: id } } : true;
}

export function videoConstraints(quality, deviceId = prefs.value.camera) {
  const size = QUALITIES[quality] || QUALITIES.medium;
  return deviceId ? { ...size, deviceId: { exact: deviceId } } : size;
}

/** Plays an element through the chosen speaker, where the browser lets pages choose. */
export function applySink(element, id = prefs.value.speaker) {
  if (!element || !canChooseSpeaker) return;
  element.setSinkId(id || "").catch(() => {});
}

/** The level (0–1) of a stream's audio, sampled ten times a second while mounted. */
export function useLevel(stream) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!stream || stream.getAudioTracks().length === 0) return setLevel(0);
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s - 128));
      setLevel(Math.min(1, (peak / 128) * 1.6));
    }, 100);
    return () => {
      clearInterval(timer);
      context.close();
    };
  }, [stream]);
  return level;
}
