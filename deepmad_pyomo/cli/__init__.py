"""The ``deepmad`` command line (entry point :func:`deepmad_pyomo.cli.main.main`)."""
