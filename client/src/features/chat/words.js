// The chat's words: conversations, the composer, the emoji picker, locks and saving.
export default {
  "en-US": {
    privateChatWith: "Private chat with {name}", privateNote: "Only you and {name} see these messages.",
    messageTo: "Message {name}", messagePublic: "Message everyone", saveChat: "Save chat",
    closeChat: "Close this chat", emojiPicker: "Insert emoji", newMessages: "New messages",
    earlier: "Show earlier messages", noMessages: "No messages yet. Say hello!",
    publicChatLocked: "A moderator locked the public chat.", privateChatLocked: "A moderator locked private chats.",
    privateChatDisabled: "Private chat is off in this meeting.", peerLeft: "{name} left the meeting.",
    newPrivateMessage: "New private message from {name}", charactersLeft: "{count} characters left",
    chatFile: "chat", privateFile: "private-chat",
  },
  "pt-BR": {
    privateChatWith: "Bate-papo privado com {name}", privateNote: "Somente você e {name} veem estas mensagens.",
    messageTo: "Mensagem para {name}", messagePublic: "Mensagem para todos", saveChat: "Salvar bate-papo",
    closeChat: "Fechar este bate-papo", emojiPicker: "Inserir emoji", newMessages: "Novas mensagens",
    earlier: "Mostrar mensagens anteriores", noMessages: "Nenhuma mensagem ainda. Diga olá!",
    publicChatLocked: "Um moderador bloqueou o bate-papo público.", privateChatLocked: "Um moderador bloqueou os bate-papos privados.",
    privateChatDisabled: "O bate-papo privado está desativado nesta sessão.", peerLeft: "{name} saiu da sessão.",
    newPrivateMessage: "Nova mensagem privada de {name}", charactersLeft: "{count} caracteres restantes",
    chatFile: "bate-papo", privateFile: "bate-papo-privado",
  },
  "es-ES": {
    privateChatWith: "Chat privado con {name}", privateNote: "Solo usted y {name} ven estos mensajes.",
    messageTo: "Mensaje para {name}", messagePublic: "Mensaje para todos", saveChat: "Guardar chat",
    closeChat: "Cerrar este chat", emojiPicker: "Insertar emoji", newMessages: "Mensajes nuevos",
    earlier: "Mostrar mensajes anteriores", noMessages: "Aún no hay mensajes. ¡Salude!",
    publicChatLocked: "Un moderador bloqueó el chat público.", privateChatLocked: "Un moderador bloqueó los chats privados.",
    privateChatDisabled: "El chat privado está desactivado en esta sesión.", peerLeft: "{name} salió de la sesión.",
    newPrivateMessage: "Nuevo mensaje privado de {name}", charactersLeft: "Quedan {count} caracteres",
    chatFile: "chat", privateFile: "chat-privado",
  },
};
