"""Errors a saver raises: each names the problem, never a bare driver traceback."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error this package raises about storage."""


class TransientStorageError(StorageError):
    """The database was briefly unavailable (locked, restarted, connection lost); retry."""


class SaverClosedError(StorageError):
    """The saver, or the connection under it, was closed before this call."""


class CorruptRowError(StorageError):
    """A stored row could not be read back (bad bytes, unknown format)."""


class InvalidConfigError(StorageError, ValueError):
    """A config, argument or URL is missing something or malformed."""
