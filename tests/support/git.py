"""Git repositories for the tests that read history: sources committed by
one author at given dates, so that versions, histories and citations come out
the same on every run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from loader.release.cut import ReleaseResult, release

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DATE = "2026-01-05T10:00:00+00:00"


def git(repo: Path, *args: str, date: str = DATE) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Curator",
        "GIT_AUTHOR_EMAIL": "curator@example.org",
        "GIT_COMMITTER_NAME": "Curator",
        "GIT_COMMITTER_EMAIL": "curator@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def commit_all(repo: Path, message: str, date: str = DATE) -> None:
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", message, date=date)


def new_repository(repo: Path, message: str = "First records", date: str = DATE) -> None:
    """A repository of the directory as it stands, in one commit."""
    git(repo, "init", "-q")
    commit_all(repo, message, date)


def released_sources(directory: Path) -> tuple[Path, ReleaseResult]:
    """The valid fixture's sources in a new repository, committed on
    2026-01-05 at 09:00, released that day, and the release's bookkeeping
    committed an hour later."""
    sources = directory / "sources"
    shutil.copytree(FIXTURES / "valid", sources)
    new_repository(sources, "First records", date="2026-01-05T09:00:00+00:00")
    first = release(sources, directory / "none.db", directory / "dist", released="2026-01-05")
    commit_all(sources, "Release 2026.01.05", date="2026-01-05T10:00:00+00:00")
    return sources, first
