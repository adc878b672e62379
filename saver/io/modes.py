"""How a plan runs, which each executor maps onto its database's transactions.

READ: no transaction needed. SNAPSHOT: several reads, one snapshot. WRITE: a transaction.
BATCH: a transaction whose statements need no rows back, so an executor may send them all at
once. RELAXED: a transaction that a power cut may undo but never half-apply, so its commit
need not wait for the disk (the cleanup job, which redoes it).
"""

READ, SNAPSHOT, WRITE, BATCH, RELAXED = "read", "snapshot", "write", "batch", "relaxed"
__all__ = ["BATCH", "READ", "RELAXED", "SNAPSHOT", "WRITE"]
