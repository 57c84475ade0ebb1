// The presentation feature. STUB: to be replaced by the port.
