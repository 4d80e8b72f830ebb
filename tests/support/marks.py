"""Marks that test modules share."""

import pytest

# The serial tests that wait out the server's own deadlines (a send, a
# request's head, a worker's retirement), with seconds of margin, and spend
# most of their time asleep: make test runs them beside the other serial
# tests, whose bounds are tighter, rather than after them (tests/conftest.py).
DEADLINES = pytest.mark.xdist_group("deadlines")
