// The activity's recordings. Learners get the published ones with their playback links;
// instructors get all, with publish/unpublish, protect/unprotect and delete (asked twice).
import { useEffect, useRef, useState } from "preact/hooks";
import { CalendarDays, Clock, Eye, EyeOff, Film, Lock, LockOpen, PlayCircle, Trash2 } from "lucide-preact";
import { t } from "../core/i18n.js";
import { call } from "./api.js";
import { when } from "./time.js";

function formatLabel(type) {
  return type === "presentation" || type === "video" ? t(`lti.format.${type}`) : t("lti.format.other", { type });
}

function Recording({ base, rec, instructor, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failed, setFailed] = useState(false);
  // Keyboard users land on the question's answer, and back on Delete when they cancel.
  const confirmRef = useRef(null);
  const deleteRef = useRef(null);
  const asked = useRef(false);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (asked.current) deleteRef.current?.focus();
    asked.current = confirming;
  }, [confirming]);
  const minutes = Math.max(1, Math.round((rec.end - rec.start) / 60_000));
  const titleId = `rec-${rec.id}`;
  async function act(action) {
    setBusy(true);
    setFailed(false);
    const { error } = await call(base, `recordings/${encodeURIComponent(rec.id)}/${action}`, "POST");
    setBusy(false);
    setConfirming(false);
    if (error) setFailed(true);
    onChanged();
  }
  return (
    <li class="lti-recording" data-record-id={rec.id} aria-labelledby={titleId}>
      <div class="lti-recording-head">
        <h3 id={titleId}>{rec.name}</h3>
        <p class="lti-meta">
          <span><CalendarDays size={14} aria-hidden="true" />{when(rec.start)}</span>
          <span><Clock size={14} aria-hidden="true" />{t("lti.duration", { minutes })}</span>
          {instructor && <span class={`lti-tag state-${rec.state}`}>{t(`lti.state.${rec.state}`)}</span>}
          {instructor && rec.protected && <span class="lti-tag protected"><Lock size={12} aria-hidden="true" />{t("lti.protected")}</span>}
        </p>
      </div>
      {rec.playback.length > 0 && (
        <p class="lti-playback">
          {rec.playback.map((f) => (
            <a key={f.type} class={`button ${rec.published ? "" : "secondary"}`} href={f.url} target="_blank" rel="noopener noreferrer">
              <PlayCircle size={16} aria-hidden="true" />{formatLabel(f.type)}
            </a>
          ))}
        </p>
      )}
      {instructor && (rec.state === "published" || rec.state === "unpublished") && (
        <div class="lti-actions" role="group" aria-label={t("lti.actionsFor", { name: rec.name })}>
          {confirming ? (
            <>
              <span class="lti-confirm" role="alert">{t("lti.confirmDelete", { name: rec.name })}</span>
              <button ref={confirmRef} type="button" class="danger" data-action="confirm-delete" disabled={busy} onClick={() => act("delete")}>
                <Trash2 size={16} aria-hidden="true" />{t("lti.delete")}
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(false)}>{t("lti.cancel")}</button>
            </>
          ) : (
            <>
              <button type="button" class="ghost" data-action={rec.published ? "unpublish" : "publish"} disabled={busy}
                onClick={() => act(rec.published ? "unpublish" : "publish")}>
                {rec.published ? <EyeOff size={16} aria-hidden="true" /> : <Eye size={16} aria-hidden="true" />}
                {t(rec.published ? "lti.unpublish" : "lti.publish")}
              </button>
              <button type="button" class="ghost" data-action={rec.protected ? "unprotect" : "protect"} disabled={busy}
                onClick={() => act(rec.protected ? "unprotect" : "protect")}>
                {rec.protected ? <LockOpen size={16} aria-hidden="true" /> : <Lock size={16} aria-hidden="true" />}
                {t(rec.protected ? "lti.unprotect" : "lti.protect")}
              </button>
              <button ref={deleteRef} type="button" class="ghost danger-text" data-action="delete" disabled={busy} onClick={() => setConfirming(true)}>
                <Trash2 size={16} aria-hidden="true" />{t("lti.delete")}
              </button>
            </>
          )}
        </div>
      )}
      {failed && <p class="demo-error" role="alert">{t("lti.error.other")}</p>}
    </li>
  );
}

export function Recordings({ base, instructor, recordings, onChanged }) {
  return (
    <section class="demo-card lti-section" aria-labelledby="recordings-title" id="recordings">
      <div class="lti-section-head">
        <h2 id="recordings-title">{t("lti.recordings")}</h2>
        {recordings.length > 0 && <span class="count-pill">{recordings.length}</span>}
      </div>
      {recordings.length === 0 ? (
        <div class="lti-empty">
          <Film size={22} aria-hidden="true" />
          <p>{t(instructor ? "lti.noRecordingsInstructor" : "lti.noRecordings")}</p>
        </div>
      ) : (
        <ul class="lti-recordings">
          {recordings.map((rec) => <Recording key={rec.id} base={base} rec={rec} instructor={instructor} onChanged={onChanged} />)}
        </ul>
      )}
    </section>
  );
}
