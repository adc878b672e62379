"""`python -m saver`: the same command line as the `saver` script."""

from saver.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
