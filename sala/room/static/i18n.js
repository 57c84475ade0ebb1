// The room's words in Brazilian Portuguese and English. Choose with pick(): an explicit locale
// (userdata-bbb_override_default_locale) wins, then the browser's languages.
export const messages = {
  "en-US": {
    connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…",
    participants: "Participants", chat: "Public chat", send: "Send", message: "Message",
    sendTo: "Send to", everyone: "Everyone", leave: "Leave", endMeeting: "End meeting",
    confirmEnd: "End the meeting for everyone? Everybody will be disconnected.",
    cancel: "Cancel", raiseHand: "Raise hand", lowerHand: "Lower hand", away: "Away",
    back: "I'm back", reactions: "Reactions", theme: "Light or dark mode",
    moderator: "Moderator", viewer: "Viewer", guest: "Guest", presenter: "Presenter", you: "you",
    makePresenter: "Make presenter", promote: "Make moderator", demote: "Make viewer",
    remove: "Remove", removeAndBan: "Remove and block rejoining", lowerTheirHand: "Lower hand",
    waitingGuests: "Waiting to join", allow: "Allow", deny: "Deny", allowAll: "Allow all",
    denyAll: "Deny all", lockSettings: "Lock viewers", lockPublicChat: "Public chat",
    lockPrivateChat: "Private chat", lockUserList: "See other viewers", lockCam: "Webcam",
    lockMic: "Microphone", lockNotes: "Shared notes",
    stagePlaceholder: "The presentation and cameras appear here.",
    lobbyWaiting: "Please wait: a moderator will let you in soon.",
    denied: "A moderator did not let you into this meeting.",
    removed: "You were removed from this meeting.",
    ended: "The meeting has ended.", left: "You left the meeting.", goOn: "Continue",
    privateTo: "Private to {name}", privateFrom: "Private from {name}",
    recording: "Recording", loggedOut: "Your session has expired. Use your join link again.",
    joinAudio: "Join audio", leaveAudio: "Leave audio", mute: "Mute", unmute: "Unmute",
    muteAll: "Mute everyone", muteThem: "Mute", unmuteThem: "Unmute",
    shareCamera: "Share webcam", stopCamera: "Stop webcam", shareScreen: "Share screen",
    stopScreen: "Stop sharing", ejectCamera: "Stop webcam",
    audioQuestion: "How do you want to join the audio?", microphone: "Microphone",
    listenOnly: "Listen only", micCheck: "Speak: does the bar move?", micWorks: "Yes, join",
    quality: "Quality", qualityLow: "Low", qualityMedium: "Medium", qualityHigh: "High",
    startCamera: "Start sharing", cameraStopped: "Your webcam was stopped.",
    screenStopped: "Your screen sharing was stopped.",
    mediaReconnecting: "Audio or video lost. Reconnecting…",
    mediaTimeout: "The media server did not answer.",
    previousPage: "Previous page", nextPage: "Next page", presentations: "Presentations",
    upload: "Upload a presentation", download: "Download the presentation",
    presentationProcessing: "Preparing {name}…", presentationFailed: "{name} could not be used: {reason}",
    slideAlt: "{name}, page {page} of {pages}",
  },
  "pt-BR": {
    connecting: "Conectando…", reconnecting: "Conexão perdida. Reconectando…",
    participants: "Participantes", chat: "Bate-papo público", send: "Enviar",
    message: "Mensagem", sendTo: "Enviar para", everyone: "Todos", leave: "Sair",
    endMeeting: "Encerrar sessão",
    confirmEnd: "Encerrar a sessão para todos? Todos os participantes serão desconectados.",
    cancel: "Cancelar", raiseHand: "Levantar a mão", lowerHand: "Abaixar a mão",
    away: "Ausente", back: "Voltei", reactions: "Reações", theme: "Modo claro ou escuro",
    moderator: "Moderador", viewer: "Participante", guest: "Convidado",
    presenter: "Apresentador", you: "você", makePresenter: "Tornar apresentador",
    promote: "Tornar moderador", demote: "Tornar participante", remove: "Remover",
    removeAndBan: "Remover e impedir o retorno", lowerTheirHand: "Abaixar a mão",
    waitingGuests: "Aguardando para entrar", allow: "Aceitar", deny: "Recusar",
    allowAll: "Aceitar todos", denyAll: "Recusar todos", lockSettings: "Bloquear participantes",
    lockPublicChat: "Bate-papo público", lockPrivateChat: "Bate-papo privado",
    lockUserList: "Ver outros participantes", lockCam: "Câmera", lockMic: "Microfone",
    lockNotes: "Notas compartilhadas",
    stagePlaceholder: "A apresentação e as câmeras aparecem aqui.",
    lobbyWaiting: "Aguarde: um moderador vai liberar sua entrada em breve.",
    denied: "Um moderador não liberou sua entrada nesta sessão.",
    removed: "Você foi removido desta sessão.", ended: "A sessão foi encerrada.",
    left: "Você saiu da sessão.", goOn: "Continuar", privateTo: "Privado para {name}",
    privateFrom: "Privado de {name}", recording: "Gravando",
    loggedOut: "Sua sessão expirou. Use seu link de acesso novamente.",
    joinAudio: "Entrar no áudio", leaveAudio: "Sair do áudio", mute: "Silenciar",
    unmute: "Ativar microfone", muteAll: "Silenciar todos", muteThem: "Silenciar",
    unmuteThem: "Ativar microfone", shareCamera: "Compartilhar câmera",
    stopCamera: "Parar câmera", shareScreen: "Compartilhar tela",
    stopScreen: "Parar compartilhamento", ejectCamera: "Parar câmera",
    audioQuestion: "Como você quer entrar no áudio?", microphone: "Microfone",
    listenOnly: "Somente ouvir", micCheck: "Fale: a barra se move?",
    micWorks: "Sim, entrar", quality: "Qualidade", qualityLow: "Baixa",
    qualityMedium: "Média", qualityHigh: "Alta", startCamera: "Começar a compartilhar",
    cameraStopped: "Sua câmera foi desligada.",
    screenStopped: "Seu compartilhamento de tela foi encerrado.",
    mediaReconnecting: "Áudio ou vídeo perdido. Reconectando…",
    mediaTimeout: "O servidor de mídia não respondeu.",
    previousPage: "Página anterior", nextPage: "Próxima página", presentations: "Apresentações",
    upload: "Enviar apresentação", download: "Baixar a apresentação",
    presentationProcessing: "Preparando {name}…",
    presentationFailed: "Não foi possível usar {name}: {reason}",
    slideAlt: "{name}, página {page} de {pages}",
  },
};

export function pick(explicit, languages) {
  const wanted = [explicit, ...(languages || [])].filter(Boolean).map((l) => l.toLowerCase());
  for (const lang of wanted) {
    if (lang.startsWith("pt")) return "pt-BR";
    if (lang.startsWith("en")) return "en-US";
  }
  return "en-US";
}

export function translator(locale) {
  const table = messages[locale] || messages["en-US"];
  return (key, vars = {}) =>
    (table[key] ?? messages["en-US"][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}
