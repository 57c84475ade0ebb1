// The polls feature. STUB: to be replaced by the port.
