// The notes feature. STUB: to be replaced by the port.
