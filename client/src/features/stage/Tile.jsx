// One video on the stage: a webcam or a screen, with the person's name, their microphone, a ring
// while they talk, and buttons to pin it and to show it full screen.
import { useEffect, useRef, useState } from "preact/hooks";
import { Headphones, Maximize2, Mic, MicOff, Minimize2, Pin, PinOff } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { tileSize } from "./layers.js";

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

export function hue(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

/** A person's picture or initials, as the empty stage and a tile waiting for video show it. */
export function Face({ user, size = 64 }) {
  const [broken, setBroken] = useState(false);
  const style = { width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.38)}px` };
  if (!user.avatar || broken) style.background = `hsl(${hue(user.id)} 45% 32%)`; // white on it: ≥ 4.5:1 for every hue
  return (
    <span class={`face ${user.talking ? "talking" : ""}`} style={style} aria-hidden="true">
      {user.avatar && !broken ? <img src={user.avatar} alt="" onError={() => setBroken(true)} /> : initials(user.name)}
    </span>
  );
}

/** The microphone as others see it: open, muted, listening only, or nothing (not in audio). */
export function MicState({ user, size = 14 }) {
  if (user.audio === "mic" && user.muted) return <MicOff class="mic-state off" size={size} aria-label={t("tileMicOff")} role="img" />;
  if (user.audio === "mic") return <Mic class="mic-state on" size={size} aria-label={t("tileMicOn")} role="img" />;
  if (user.audio === "listen") return <Headphones class="mic-state" size={size} aria-label={t("tileListening")} role="img" />;
  return null;
}

export function Video({ stream, id, class: cls = "" }) {
  const ref = useRef(null);
  useEffect(() => {
    const video = ref.current;
    if (video && video.srcObject !== stream) video.srcObject = stream || null;
  }, [stream]);
  // Voices come through the meeting's mix, never through a video element.
  return <video ref={ref} id={id} class={cls} autoplay playsInline muted />;
}

export function Tile({ id, user, stream, kind = "camera", mine = false, mirrored = false, feed, pinned, onPin, main = false }) {
  const root = useRef(null);
  const [full, setFull] = useState(false);
  useEffect(() => {
    const changed = () => setFull(document.fullscreenElement === root.current);
    document.addEventListener("fullscreenchange", changed);
    return () => document.removeEventListener("fullscreenchange", changed);
  }, []);
  // Someone else's webcam: its size on screen picks the simulcast layer received (layers.js).
  const sized = kind === "camera" && !mine && typeof feed === "number";
  useEffect(() => {
    const box = root.current;
    if (!sized || !box) return undefined;
    const observer = new ResizeObserver(([entry]) => tileSize(feed, entry.contentRect.width, entry.contentRect.height));
    observer.observe(box);
    return () => {
      observer.disconnect();
      tileSize(feed, null, null);
    };
  }, [sized, feed]);
  const name = kind === "screen" ? t("screenOf", { name: user.name }) : mine ? `${user.name} (${t("you")})` : user.name;
  const label = t(kind === "screen" ? "screenOf" : "cameraOf", { name: user.name });
  const toggleFull = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else root.current?.requestFullscreen?.().catch(() => {});
  };
  return (
    <figure
      id={id}
      ref={root}
      class={`tile ${kind} ${mirrored ? "mirrored" : ""} ${main ? "main" : ""} ${user.talking ? "talking" : ""}`}
      data-user={user.id || ""}
      data-feed={feed ?? ""}
      data-talking={String(Boolean(user.talking))}
      data-muted={String(user.audio === "mic" && Boolean(user.muted))}
      aria-label={label}
    >
      <Video stream={stream} />
      {!stream && (
        <div class="tile-wait">
          <Face user={user} size={main ? 96 : 56} />
          <span class="tile-wait-text">{t("videoConnecting")}</span>
        </div>
      )}
      <figcaption class="tile-name">
        {kind === "camera" && <MicState user={user} />}
        <span class="tile-name-text">{name}</span>
      </figcaption>
      <div class="tile-tools">
        {onPin && (
          <button
            type="button"
            class="tile-tool"
            aria-pressed={String(Boolean(pinned))}
            aria-label={t(pinned ? "unpin" : "pin", { name: user.name })}
            data-tooltip={t(pinned ? "unpin" : "pin", { name: user.name })}
            data-action="pin"
            onClick={onPin}
          >
            {pinned ? <PinOff size={16} aria-hidden="true" /> : <Pin size={16} aria-hidden="true" />}
          </button>
        )}
        <button
          type="button"
          class="tile-tool"
          aria-label={t(full ? "exitFullscreen" : "fullscreen")}
          data-tooltip={t(full ? "exitFullscreen" : "fullscreen")}
          data-action="fullscreen"
          onClick={toggleFull}
        >
          {full ? <Minimize2 size={16} aria-hidden="true" /> : <Maximize2 size={16} aria-hidden="true" />}
        </button>
      </div>
    </figure>
  );
}
