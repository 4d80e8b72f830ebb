"""The tests; a package so that their helpers in tests.support import by name."""
