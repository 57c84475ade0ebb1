// The presenter's uploads: each file is sent on its own (POST /room/upload, field `file`), with
// the bytes sent so far; once sala has it (202 with the document's id), its conversion is
// followed in the presentations the server reports (processing with progress, ready, failed).
import { computed, signal } from "@preact/signals";
import { t } from "../../core/i18n.js";
import { presentations } from "./state.js";

export const ACCEPT = ".pdf,.doc,.docx,.odt,.rtf,.txt,.ppt,.pptx,.odp,.xls,.xlsx,.ods,.png,.jpg,.jpeg,.gif,.webp," +
  "application/pdf,image/png,image/jpeg,image/gif,image/webp";

/** [{key, name, size, loaded, status: "uploading" | "sent" | "failed", id, error}] */
export const uploads = signal([]);
let made = 0;

function patch(key, change) {
  uploads.value = uploads.value.map((u) => (u.key === key ? { ...u, ...change } : u));
}

/** Where an upload stands, the server's conversion included. */
export function stageOf(upload, docs = presentations.value) {
  if (upload.status !== "sent") return { status: upload.status, error: upload.error };
  const doc = docs.find((d) => d.id === upload.id);
  if (!doc) return { status: "converting" };
  if (doc.state === "ready") return { status: "ready" };
  if (doc.state === "failed") return { status: "failed", error: doc.error };
  return { status: "converting", progress: doc.progress };
}

export const busyUploads = computed(
  () => uploads.value.filter((u) => ["uploading", "converting"].includes(stageOf(u, presentations.value).status)).length,
);

export function uploadFiles(files) {
  for (const file of files) {
    made += 1;
    const key = `u${made}`;
    uploads.value = [...uploads.value, { key, name: file.name, size: file.size, loaded: 0, status: "uploading" }];
    const body = new FormData();
    body.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", "/room/upload");
    request.withCredentials = true;
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) patch(key, { loaded: event.loaded, size: event.total });
    };
    request.onload = () => {
      const answer = request.response || {};
      if (request.status === 202) patch(key, { status: "sent", id: answer.id, loaded: file.size });
      else patch(key, { status: "failed", error: answer.message || request.statusText || t("uploadFailed") });
    };
    request.onerror = () => patch(key, { status: "failed", error: t("uploadNetworkError") });
    request.send(body);
  }
}

/** Forget finished and failed uploads (the list keeps those still under way). */
export function clearFinished() {
  uploads.value = uploads.value.filter((u) => ["uploading", "converting"].includes(stageOf(u).status));
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
