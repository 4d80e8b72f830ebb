"""The command-line options the benchmark commands share, each spelled once, so
the load test, the reliability report and the benchmark take them alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from loader import PROJECT_ROOT


def path_option(name: str, relative: str, *, folder: bool, help: str | None = None) -> Callable[[Any], Any]:
    """An option naming a folder or a file, by default `relative` to the project's root."""
    return click.option(
        name,
        type=click.Path(file_okay=not folder, dir_okay=folder, path_type=Path),
        default=PROJECT_ROOT / relative,
        show_default=relative,
        help=help,
    )


# The load test's clients and how long they keep asking (benchmarks/load.py).
clients_option = click.option("--clients", default=50, show_default=True)
seconds_option = click.option("--seconds", default=60.0, show_default=True)
