"""What makes several sala processes one service: the node registry, the lease directory and
the Redis-backed bus. A single process uses the in-memory implementations and needs no Redis."""
