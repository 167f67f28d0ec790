"""``python -m reconciler``: the same command line as the ``reconciler`` script."""

from reconciler.cli import main

if __name__ == "__main__":  # pragma: no cover - thin entry point
    main()
