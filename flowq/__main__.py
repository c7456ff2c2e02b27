"""`python -m flowq` runs the `flowq` command line."""

from flowq.cli import main

raise SystemExit(main())
