"""Helpers shared by the tests and the benchmarks: bad-input cases and their
mutations, crash and disk-fault scenarios, git repositories of sources at fixed
dates, and the served site with a browser.

A package, imported by its full name (`tests.support.bad_input`), so that
pytest in any import mode and `python -m benchmarks...` find it alike.
"""
