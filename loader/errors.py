"""What the loader raises when it refuses to do something.

The library never prints and never exits: like sqlite-utils, it raises its
own exceptions, and `cli.py` alone turns them into messages and exit codes.
Every exception the loader means a person to read derives from LoaderError,
so a caller can catch them all in one place.
"""

from __future__ import annotations


class LoaderError(Exception):
    """A refusal with a message for the person who asked: bad input, a busy
    database, a file that could not be replaced."""
