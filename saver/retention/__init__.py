"""Retention: which checkpoints a policy keeps (policy.py, pure) and the batched job that
deletes the rest (job.py: plans, like every other operation; the background sweeper that
runs it on a timer is io/_async/sweeper.py)."""
