"""Run qdebug with ``python -m qdebug_tui``."""

from qdebug_tui.cli import main

raise SystemExit(main())
