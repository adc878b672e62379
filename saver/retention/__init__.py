"""Retention: which checkpoints a policy keeps (policy.py, pure) and the batched job that
deletes the rest (sweep.py: plans, like every other operation)."""
