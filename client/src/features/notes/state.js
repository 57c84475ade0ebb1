// This page's one shared-notes engine, and whether the meeting has notes at all.
import { signal } from "@preact/signals";
import { send } from "../../core/connection.js";
import { createNotes } from "./notes.js";

export const notes = createNotes({ send });
/** The welcome's document is null when create's disabledFeatures has sharedNotes. */
export const available = signal(false);
