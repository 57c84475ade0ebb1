// Shared notes: a Yjs document whose text is bound to a <textarea>. Local edits become Yjs
// updates sent to sala (merged per pause in typing); updates from others are merged into the
// document and the textarea follows, keeping the caret where the writer left it. A moderator's
// reset starts a new document (a new `generation`): this page's old copy is then dropped.
import * as Y from "yjs";

const FLUSH_MS = 120;
// Below the server's limit of 16 KiB per update (room/notes.py), with room for Yjs' own bytes.
const MAX_UPDATE = 12 * 1024;
const CHUNK_CHARS = 3000;
const LOCAL = "local";
const REMOTE = "remote";

function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function createNotes({ send, el, canEdit, canReset }) {
  let doc = null;
  let generation = 0;
  let text = null;
  let pending = [];
  let timer = null;
  let sent = 0;
  const area = el("notes");

  function startOver(server) {
    if (doc !== null) doc.destroy();
    clearTimeout(timer);
    timer = null;
    pending = [];
    doc = new Y.Doc();
    text = doc.getText("notes");
    doc.on("update", onDocUpdate);
    text.observe(onTextChange);
    Y.applyUpdate(doc, server, REMOTE);
    area.value = text.toString();
  }

  function flush() {
    timer = null;
    const updates = pending;
    pending = [];
    if (!updates.length) return;
    const merged = Y.mergeUpdates(updates);
    // A big paste is sent as the separate updates it was typed in (see onInput).
    for (const update of merged.length <= MAX_UPDATE ? [merged] : updates) {
      sent += 1;
      send({ type: "notes.update", update: toBase64(update), generation, ref: `notes-${sent}` });
    }
  }

  function onDocUpdate(update, origin) {
    if (origin === REMOTE) return;
    pending.push(update);
    if (timer === null) timer = setTimeout(flush, FLUSH_MS);
  }

  function onTextChange(event, transaction) {
    if (transaction.origin === LOCAL) return;
    // Move the caret by what was inserted or deleted before it.
    let { selectionStart: start, selectionEnd: end } = area;
    let index = 0;
    for (const op of event.delta) {
      if (op.retain) index += op.retain;
      else if (op.insert) {
        const n = op.insert.length;
        if (index < start) start += n;
        if (index < end) end += n;
        index += n;
      } else if (op.delete) {
        const n = op.delete;
        if (index < start) start = Math.max(index, start - n);
        if (index < end) end = Math.max(index, end - n);
      }
    }
    area.value = text.toString();
    if (document.activeElement === area) area.setSelectionRange(start, end);
  }

  function onInput() {
    if (doc === null) return;
    const before = text.toString();
    const after = area.value;
    let prefix = 0;
    const shorter = Math.min(before.length, after.length);
    while (prefix < shorter && before[prefix] === after[prefix]) prefix++;
    let suffix = 0;
    while (
      suffix < shorter - prefix &&
      before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
    ) suffix++;
    const removed = before.length - prefix - suffix;
    const inserted = after.slice(prefix, after.length - suffix);
    if (removed > 0) doc.transact(() => text.delete(prefix, removed), LOCAL);
    // Each transaction is one update; chunks keep a large paste under the update limit.
    for (let i = 0; i < inserted.length; i += CHUNK_CHARS) {
      doc.transact(() => text.insert(prefix + i, inserted.slice(i, i + CHUNK_CHARS)), LOCAL);
    }
  }
  area.addEventListener("input", onInput);

  el("notes-download").addEventListener("click", () => {
    const blob = new Blob([area.value], { type: "text/plain;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "notes.txt";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  return {
    // The welcome carries the server's whole document (or null when notes are disabled). After
    // a reconnect, edits this page made while away are sent on top of it, so none are lost.
    welcome(encoded, serverGeneration = 0) {
      el("notes-panel").hidden = encoded === null;
      if (encoded === null) return;
      const server = fromBase64(encoded);
      if (doc === null || serverGeneration !== generation) {
        // First load, or the notes were reset while away: this copy belongs to the old document.
        generation = serverGeneration;
        startOver(server);
      } else {
        Y.applyUpdate(doc, server, REMOTE);
        const missing = Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(server));
        const { structs, ds } = Y.decodeUpdate(missing);
        if (structs.length || ds.clients.size) onDocUpdate(missing, LOCAL);
        area.value = text.toString();
      }
      this.refresh();
    },
    // An edit of ours was refused (a lock, the size limit): later edits would build on it and
    // never show for others, so this copy is dropped for the room's (answered by notes.state).
    refused() {
      send({ type: "notes.sync", ref: "notes-sync" });
    },
    state(encoded, serverGeneration = generation) {
      generation = serverGeneration;
      startOver(fromBase64(encoded));
      this.refresh();
    },
    // A moderator emptied the notes: everybody starts over from the new, empty document.
    reset(encoded, serverGeneration) {
      this.state(encoded, serverGeneration);
    },
    update(encoded, serverGeneration = generation) {
      if (doc !== null && serverGeneration === generation) Y.applyUpdate(doc, fromBase64(encoded), REMOTE);
    },
    refresh() {
      area.readOnly = !canEdit();
      el("notes-reset").hidden = !canReset();
    },
    text: () => (text === null ? null : text.toString()),
  };
}
