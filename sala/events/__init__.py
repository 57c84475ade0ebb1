"""What happened, and who is told: the meeting event log, the internal bus, and (later) webhooks
and the analytics callback that read the log."""
