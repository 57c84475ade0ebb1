// The chat feature. STUB: to be replaced by the port.
