"""Subcommands of the ``qdebug`` command line, one module each."""
