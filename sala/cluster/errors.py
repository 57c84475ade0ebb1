"""What the cluster's shared pieces raise when the shared store cannot be reached."""

from __future__ import annotations


class ClusterUnavailable(Exception):
    """The registry or directory could not reach Redis (or Valkey) in time.

    The in-process implementations never raise it. Callers treat it as "unknown", never as
    "no owner" or "no nodes": a node that cannot renew its leases must expect to lose them."""
