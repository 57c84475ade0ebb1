// The presenter's presentations dialog (BBB's "Manage presentations"): drop or choose several
// files, each with its upload and conversion progress and any error; then the meeting's
// documents, to show one, download it, or remove it.
import { signal } from "@preact/signals";
import { useRef, useState } from "preact/hooks";
import { CircleCheck, CloudUpload, Download, FileText, LoaderCircle, Presentation as PresentationIcon, Trash2, TriangleAlert } from "lucide-preact";
import { t } from "../../core/i18n.js";
import { disabled } from "../../core/store.js";
import { Modal } from "../../ui/Modal.jsx";
import { currentId, presentations, removePresentation, showPresentation, slideUrl } from "./state.js";
import { ACCEPT, clearFinished, formatSize, stageOf, uploadFiles, uploads } from "./uploads.js";

export const dialogOpen = signal(false);

function Progress({ value, label }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={String(percent)} aria-label={label}>
      <span style={{ width: `${percent}%` }} />
    </div>
  );
}

function UploadItem({ upload }) {
  const stage = stageOf(upload, presentations.value);
  let text;
  let value = 1;
  if (stage.status === "uploading") {
    value = upload.size ? upload.loaded / upload.size : 0;
    text = t("uploading", { percent: Math.round(value * 100) });
  } else if (stage.status === "converting") {
    const p = stage.progress;
    value = p?.total ? p.done / p.total : 0;
    text = p?.total ? t("converting", { done: p.done, total: p.total }) : t("convertingStart");
  } else if (stage.status === "ready") {
    text = t("uploadReady");
  } else {
    text = stage.error || t("uploadFailed");
  }
  const Icon = stage.status === "ready" ? CircleCheck : stage.status === "failed" ? TriangleAlert : LoaderCircle;
  return (
    <li class={`upload-item ${stage.status}`} data-status={stage.status}>
      <Icon size={18} class={stage.status === "uploading" || stage.status === "converting" ? "spin" : ""} aria-hidden="true" />
      <div class="upload-main">
        <div class="upload-line">
          <span class="upload-name">{upload.name}</span>
          <span class="upload-size">{formatSize(upload.size)}</span>
        </div>
        {(stage.status === "uploading" || stage.status === "converting") && <Progress value={value} label={text} />}
        <span class="upload-state">{text}</span>
      </div>
    </li>
  );
}

function DropZone() {
  const input = useRef(null);
  const [over, setOver] = useState(false);
  const take = (files) => {
    if (files?.length) uploadFiles([...files]);
  };
  return (
    <div
      class={`dropzone ${over ? "over" : ""}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); take(e.dataTransfer?.files); }}
    >
      <CloudUpload size={36} aria-hidden="true" />
      <p class="dropzone-title">{t("dropHere")}</p>
      <p class="dropzone-hint">{t("dropHint")}</p>
      <button type="button" class="secondary" id="upload-choose" onClick={() => input.current?.click()}>
        {t("chooseFiles")}
      </button>
      <input
        ref={input}
        id="upload"
        type="file"
        multiple
        accept={ACCEPT}
        class="visually-hidden"
        tabIndex={-1}
        aria-label={t("chooseFiles")}
        onChange={(e) => { take(e.currentTarget.files); e.currentTarget.value = ""; }}
      />
    </div>
  );
}

function DocumentRow({ doc }) {
  const current = doc.id === currentId.value;
  const downloadAllowed = doc.downloadable && !disabled("downloadPresentationOriginalFile") && !disabled("downloadPresentationWithAnnotations");
  let state = null;
  if (doc.state === "processing") {
    state = doc.progress?.total ? t("converting", { done: doc.progress.done, total: doc.progress.total }) : t("convertingStart");
  } else if (doc.state === "failed") state = doc.error || t("uploadFailed");
  return (
    <li class={`doc-row ${current ? "current" : ""}`} data-presentation={doc.id} data-state={doc.state}>
      <div class="doc-thumb" aria-hidden="true">
        {doc.state === "ready" ? <img src={slideUrl(doc, 1, true)} alt="" loading="lazy" /> : <FileText size={22} />}
      </div>
      <div class="doc-main">
        <span class="doc-name">{doc.name}</span>
        <span class="doc-meta">
          {doc.state === "ready" && t(doc.pages === 1 ? "presOnePage" : "presPages", { count: doc.pages })}
          {current && <span class="doc-badge">{t("currentPresentation")}</span>}
          {downloadAllowed && <span class="doc-badge muted">{t("downloadable")}</span>}
          {state && <span class={doc.state === "failed" ? "doc-error" : ""}>{state}</span>}
        </span>
      </div>
      <div class="doc-actions">
        {doc.state === "ready" && !current && (
          <button type="button" class="secondary doc-show" aria-label={t("showNamed", { name: doc.name })} onClick={() => showPresentation(doc.id)}>
            <PresentationIcon size={16} aria-hidden="true" />
            <span>{t("show")}</span>
          </button>
        )}
        {downloadAllowed && doc.state === "ready" && (
          <a class="doc-icon" href={`/room/documents/${encodeURIComponent(doc.id)}`} download
            aria-label={t("downloadNamed", { name: doc.name })} data-tooltip={t("download")}>
            <Download size={16} aria-hidden="true" />
          </a>
        )}
        {doc.removable && !current && doc.state !== "processing" && (
          <button type="button" class="doc-icon danger-text doc-remove" aria-label={t("removePresentationNamed", { name: doc.name })}
            data-tooltip={t("removePresentation")} onClick={() => removePresentation(doc.id)}>
            <Trash2 size={16} aria-hidden="true" />
          </button>
        )}
      </div>
    </li>
  );
}

export function PresentationsDialog() {
  const list = uploads.value;
  return (
    <Modal id="presentation-dialog" open={dialogOpen.value} title={t("presentations")} wide onClose={() => (dialogOpen.value = false)}>
      <p class="dialog-lead">{t("uploadLead")}</p>
      <DropZone />
      {list.length > 0 && (
        <section class="upload-section" aria-labelledby="upload-list-title">
          <div class="section-head">
            <h3 id="upload-list-title">{t("uploadsTitle")}</h3>
            <button type="button" class="ghost small" onClick={clearFinished}>{t("clearFinished")}</button>
          </div>
          <ul id="upload-list" class="upload-list" aria-live="polite">
            {list.map((u) => <UploadItem key={u.key} upload={u} />)}
          </ul>
        </section>
      )}
      <section class="doc-section" aria-labelledby="doc-list-title">
        <h3 id="doc-list-title">{t("meetingPresentations")}</h3>
        <ul id="presentation-list" class="doc-list">
          {presentations.value.map((d) => <DocumentRow key={d.id} doc={d} />)}
        </ul>
      </section>
      <div class="modal-actions">
        <button value="done">{t("done")}</button>
      </div>
    </Modal>
  );
}
