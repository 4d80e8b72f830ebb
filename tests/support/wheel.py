"""The project as a user installs it: its wheel, in a virtual environment of its own.

The wheel is built as docs/replicas.md says (`pip wheel . --no-deps`), from
a copy of the checkout's packaging files, so a test writes nothing into the
checkout (pip builds in the source tree); the copy keeps the package's
symbolic links (schema.sql, metadata.yml), which the wheel must carry as files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from loader import PROJECT_ROOT

# What `pip wheel .` reads: the packaging, the package, and what its links point to.
PACKAGED = ("pyproject.toml", "README.md", "LICENSE", "schema.sql", "metadata.yml")


def build_wheel(directory: Path) -> Path:
    """The project's wheel, built into directory from a copy of the checkout."""
    source = directory / "source"
    source.mkdir(parents=True)
    for name in PACKAGED:
        shutil.copy2(PROJECT_ROOT / name, source / name)
    shutil.copytree(
        PROJECT_ROOT / "loader", source / "loader", symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = directory / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        cwd=directory,
    )
    (wheel,) = wheels.glob("event_store-*.whl")
    return wheel


def outside_env() -> dict[str, str]:
    """This environment without what would let a child import the checkout."""
    return {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}


def empty_venv(path: Path) -> Path:
    """A new virtual environment with nothing installed, not even pip (its own
    copy took seconds to install and is never used: pip_install drives this
    environment's); its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, env=outside_env())
    return path / "bin"


def pip_install(bin_dir: Path, *requirements: str, cwd: Path | None = None) -> None:
    """Install into that environment with this one's pip (`--python`, which
    runs it under that environment's interpreter, so that what it installs is
    that environment's); dependencies come from the package index or pip's
    cache. Not compiled to bytecode beforehand: Python compiles what the
    server imports as it imports it, and the rest is never read."""
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python")]
    subprocess.run([*pip, "install", "-q", "--no-compile", *requirements], check=True, cwd=cwd, env=outside_env())
