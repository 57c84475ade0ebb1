// Shared notes: a Yjs document whose text is bound to a <textarea>. Local edits become Yjs
// updates sent to sala (merged per pause in typing); updates from others are merged into the
// document and the textarea follows, keeping the caret where the writer left it. A moderator's
// reset starts a new document (a new `generation`): this page's old copy is then dropped.
// The textarea is attached when the panel mounts (the welcome may come first) and detached
// when it unmounts; the document lives on meanwhile.
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

export function createNotes({ send }) {
  let doc = null;
  let generation = 0;
  let text = null;
  let pending = [];
  let timer = null;
  let sent = 0;
  let area = null;

  function show() {
    if (area && text !== null) area.value = text.toString();
  }

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
    show();
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
    if (transaction.origin === LOCAL || area === null) return;
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
    if (doc === null || area === null) return;
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

  return {
    attach(element) {
      area = element;
      area.addEventListener("input", onInput);
      show();
    },
    detach(element) {
      element.removeEventListener("input", onInput);
      if (area === element) area = null;
    },
    // The welcome carries the server's whole document (or null when notes are disabled). After
    // a reconnect, edits this page made while away are sent on top of it, so none are lost.
    welcome(encoded, serverGeneration = 0) {
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
        show();
      }
    },
    // An edit of ours was refused (a lock, the size limit): later edits would build on it and
    // never show for others, so this copy is dropped for the room's (answered by notes.state).
    refused() {
      send({ type: "notes.sync", ref: "notes-sync" });
    },
    state(encoded, serverGeneration = generation) {
      generation = serverGeneration;
      startOver(fromBase64(encoded));
    },
    // A moderator emptied the notes: everybody starts over from the new, empty document.
    reset(encoded, serverGeneration) {
      this.state(encoded, serverGeneration);
    },
    update(encoded, serverGeneration = generation) {
      if (doc !== null && serverGeneration === generation) Y.applyUpdate(doc, fromBase64(encoded), REMOTE);
    },
    text: () => (text === null ? null : text.toString()),
  };
}
