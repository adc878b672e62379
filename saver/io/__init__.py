"""Executors that drive core plans over a real connection, and the saver classes on top.

`_async/` is the source; `_sync/` is generated from it by scripts/unasync.py.
"""
