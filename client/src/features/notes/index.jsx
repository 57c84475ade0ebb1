// The shared notes feature: a "notes" side panel with the collaborative text (notes.js binds
// it to the Yjs document sala relays), its download, and a moderator's reset.
import { NotebookPen } from "lucide-preact";
import { register, t } from "../../core/i18n.js";
import { disabled, meeting, on, toast } from "../../core/store.js";
import { registerPanel } from "../../ui/registry.js";
import { available, notes } from "./state.js";
import { NotesPanel } from "./NotesPanel.jsx";
import words from "./words.js";
import "./notes.css";

register(words);

on("welcome", (m) => {
  available.value = m.notes !== null && m.notes !== undefined;
  notes.welcome(m.notes ?? null, m.notesGeneration ?? 0);
});
on("notes.update", (m) => notes.update(m.update, m.generation));
on("notes.state", (m) => notes.state(m.update, m.generation));
on("notes.reset", (m) => {
  notes.reset(m.update, m.generation);
  toast(t("notesWereReset", { name: m.by }));
});
// An edit of ours was refused: start over from the room's copy (notes.js says why).
on("error", (m) => {
  if (m.ref?.startsWith("notes-") && m.ref !== "notes-sync") notes.refused();
});

registerPanel({
  id: "notes",
  order: 20,
  icon: NotebookPen,
  label: () => t("sharedNotes"),
  visible: () => available.value && !(meeting.value && disabled("sharedNotes")),
  component: NotesPanel,
});
