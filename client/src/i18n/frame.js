// Words of the room's frame: top bar, navigation, action bar, announcements.
export default {
  "en-US": {
    leaveMenu: "Leave options", leaveMeeting: "Leave meeting", settings: "Settings", navigation: "Navigation",
    actions: "Actions", actionsMenu: "More actions", unread: "{count} unread", close: "Close",
    userJoined: "{name} joined", userLeft: "{name} left", usersJoined: "{count} people joined", usersLeft: "{count} people left", handRaisedBy: "{name} raised their hand",
    shortcuts: "Keyboard shortcuts", scToggleUsers: "Show or hide the participants",
    scToggleChat: "Open or close the public chat", scSettings: "Open the settings",
    scActions: "Open the actions menu", scShortcuts: "List the keyboard shortcuts",
  },
  "pt-BR": {
    leaveMenu: "Opções de saída", leaveMeeting: "Sair da sala", settings: "Configurações", navigation: "Navegação",
    actions: "Ações", actionsMenu: "Mais ações", unread: "{count} não lidas", close: "Fechar",
    userJoined: "{name} entrou", userLeft: "{name} saiu", usersJoined: "{count} pessoas entraram", usersLeft: "{count} pessoas saíram", handRaisedBy: "{name} levantou a mão",
    shortcuts: "Atalhos de teclado", scToggleUsers: "Mostrar ou ocultar os participantes",
    scToggleChat: "Abrir ou fechar o bate-papo público", scSettings: "Abrir as configurações",
    scActions: "Abrir o menu de ações", scShortcuts: "Listar os atalhos de teclado",
  },
  "es-ES": {
    leaveMenu: "Opciones de salida", leaveMeeting: "Salir de la sala", settings: "Configuración", navigation: "Navegación",
    actions: "Acciones", actionsMenu: "Más acciones", unread: "{count} sin leer", close: "Cerrar",
    userJoined: "{name} se unió", userLeft: "{name} salió", usersJoined: "{count} personas se unieron", usersLeft: "{count} personas salieron", handRaisedBy: "{name} levantó la mano",
    shortcuts: "Atajos de teclado", scToggleUsers: "Mostrar u ocultar los participantes",
    scToggleChat: "Abrir o cerrar el chat público", scSettings: "Abrir la configuración",
    scActions: "Abrir el menú de acciones", scShortcuts: "Ver los atajos de teclado",
  },
};
