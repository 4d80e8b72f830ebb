"""The curator's desk: the commands a newsroom uses to add the week's reports.

Each module is one concern behind one command of cli.py: names (the matching
key and matcher behind `find`), find, diff, overlap, archive_file, dates and
draft. They raise DeskError (a LoaderError) and print nothing.
"""

from __future__ import annotations

from ..errors import LoaderError


class DeskError(LoaderError):
    """A desk command cannot do what it was asked (no archive, no such file, ...)."""
