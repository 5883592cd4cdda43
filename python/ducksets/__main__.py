"""``python -m ducksets``: the same command line as the ``ducksets`` script."""

from ducksets.cli import main

raise SystemExit(main())
