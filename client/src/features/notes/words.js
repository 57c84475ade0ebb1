// The shared notes' own words (the first ones are in i18n/core.js).
export default {
  "en-US": {
    notesPlaceholder: "Write here together: everybody in the meeting sees the same text.",
    notesLocked: "A moderator locked the notes: you can read them.",
    notesHelp: "Saved for everyone as you type.", notesCount: "{count} characters",
  },
  "pt-BR": {
    notesPlaceholder: "Escrevam aqui juntos: todos na sala veem o mesmo texto.",
    notesLocked: "Um moderador bloqueou as notas: você pode lê-las.",
    notesHelp: "Salvo para todos enquanto você digita.", notesCount: "{count} caracteres",
  },
  "es-ES": {
    notesPlaceholder: "Escribid aquí juntos: todos en la sala ven el mismo texto.",
    notesLocked: "Un moderador bloqueó las notas: puedes leerlas.",
    notesHelp: "Se guarda para todos mientras escribes.", notesCount: "{count} caracteres",
  },
};
