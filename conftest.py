"""Hooks for the chapters under nbval (book/*.ipynb): keep what ran. See tests/nbval_runs.py."""

pytest_plugins = ["tests.nbval_runs"]
