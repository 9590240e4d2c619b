"""The course's tests: a package, so that every test and the nbval hooks import tests.nbval_runs alike."""
