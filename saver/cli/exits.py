"""The exit codes of every `saver` command."""

OK = 0
FAILURE = 1  # the storage failed (StorageError)
USAGE = 2  # a bad option, URL or config
NOT_FOUND = 3  # no such thread or checkpoint
DAMAGED = 4  # damaged rows found (saver doctor; saver cleanup skipped threads holding them)
INTERRUPTED = 130
