"""The storage logic shared by every saver. Nothing here does I/O."""
