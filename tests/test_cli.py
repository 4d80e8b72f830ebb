"""The command line, through click's CliRunner and once as a real process."""

from __future__ import annotations

import ast
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader import __version__
from loader.cli import cli
from loader.problems import display_path

PROJECT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [[], ["validate"], ["build"], ["serve"]])
def test_help_on_everything(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_validate_prints_a_one_line_summary(sources: Path) -> None:
    archive = Path(__file__).parent / "fixtures" / "archive"
    result = CliRunner().invoke(cli, ["validate", "--sources", str(sources), "--archive", str(archive)])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert "is valid: " in result.output and "2 events" in result.output


def test_validate_lists_problems_and_exits_1(sources: Path) -> None:
    paris = sources / "events" / "paris.yml"
    paris.write_text(paris.read_text().replace("place_id: paris", "place_id: pariss"))
    result = CliRunner().invoke(cli, ["validate", "--sources", str(sources)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == "Error: 1 problem in 1 file; nothing was written."
    assert (
        ": 2025-08-19-paris-shaibani-dermer: place_id: 'pariss' is not a known places id (did you mean 'paris'?)"
        in lines[0]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_sources_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--sources", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "no such directory of sources" in result.output


def test_build_then_validate_writes_nothing(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "out.db"
    result = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wrote ")
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM events").fetchone()[0] == 2
    before = sorted(tmp_path.rglob("*"))
    CliRunner().invoke(cli, ["validate", "--sources", str(sources)])
    assert sorted(tmp_path.rglob("*")) == before


def test_build_timings_name_each_step_with_its_wall_and_cpu_time(sources: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["build", "--sources", str(sources), "--db", str(tmp_path / "out.db"), "--timings"]
    )
    assert result.exit_code == 0, result.output
    steps = re.findall(r"^timing: (.+): ([\d.]+) s, CPU ([\d.]+) s$", result.output, re.MULTILINE)
    names = [name for name, _, _ in steps]
    assert len(names) == len(set(names)) >= 5
    assert any("after-load" in name for name in names) and any("integrity" in name for name in names)
    assert sum(float(wall) for _, wall, _ in steps) > 0
    plain = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--db", str(tmp_path / "out.db")])
    assert "timing:" not in plain.output


def test_build_prints_each_step_and_an_imports_progress_on_stderr(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build of a large import runs for minutes: it says on stderr what it
    is doing, each step as it begins and the events imported so far (here
    after every batch; PROGRESS_EVERY seconds apart at a terminal)."""
    monkeypatch.setattr("loader.cli.PROGRESS_EVERY", 0.0)
    acled = PROJECT / "tests" / "fixtures" / "acled" / "syria.csv"
    result = CliRunner().invoke(
        cli, ["build", "--sources", str(sources), "--db", str(tmp_path / "out.db"), "--import", str(acled)]
    )
    assert result.exit_code == 0, result.output
    progress = re.findall(r"^\[ *[\d.]+ s\] (.+)$", result.stderr, re.MULTILINE)
    assert progress[0] == "validating the sources"
    assert f"{display_path(acled)}: 5 events imported, 100% of the file read" in progress
    assert any("integrity check" in line for line in progress)
    assert "] " not in result.stdout


def test_python_dash_m_runs_without_traceback(sources: Path, tmp_path: Path) -> None:
    bad = sources / "events" / "bad.yml"
    bad.write_text("events:\n  - id: x\n    start_date: 2025-02-30\n")
    result = subprocess.run(
        [sys.executable, "-m", "loader", "build", "--sources", str(sources), "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}:3: x: start_date: must be a real calendar date written YYYY-MM-DD" in result.stderr
    assert not (tmp_path / "x.db").exists()


def run_installed(tmp_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`validate` from the package as a non-editable install leaves it: the
    loader alone in a site-packages directory, with the schema.sql and
    metadata.yml it carries (its links copied as files, as the wheel has
    them), without sources/ beside it."""
    site_packages = tmp_path / "site-packages"
    shutil.copytree(PROJECT / "loader", site_packages / "loader", ignore=shutil.ignore_patterns("__pycache__"))
    return subprocess.run(
        [sys.executable, "-m", "loader", "validate"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(site_packages)},
        capture_output=True,
        text=True,
    )


def test_an_installed_package_works_from_the_repository_root(tmp_path: Path) -> None:
    result = run_installed(tmp_path, PROJECT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sources is valid: ")


def test_an_installed_package_elsewhere_says_what_it_needs_in_one_line(tmp_path: Path) -> None:
    result = run_installed(tmp_path, tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "sources: no such directory of sources" in result.stderr


@pytest.mark.parametrize("name", ["events.sqlite", "other.db", "events.db.bak"])
def test_serve_refuses_a_database_not_named_events_db(tmp_path: Path, sources: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--sources", str(sources), "--db", str(tmp_path / name)])
    assert result.exit_code == 1
    assert f"{name}: the database file must be named events.db" in result.output
    assert not (tmp_path / name).exists()


def loader_modules() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text(encoding="utf-8")) for path in (PROJECT / "loader").glob("*.py")}


def test_only_the_cli_knows_click() -> None:
    """The library raises its own errors; cli.py alone turns them into messages and exit codes."""
    importing = sorted(
        name
        for name, tree in loader_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(alias.name.split(".")[0] == "click" for alias in node.names)
        or isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] == "click"
    )
    assert set(importing) == {"cli.py"}


def test_no_module_imports_another_modules_private_names() -> None:
    private = [
        (name, alias.name)
        for name, tree in loader_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert private == []


def test_the_importer_names_no_format() -> None:
    source = (PROJECT / "loader" / "imports" / "importer.py").read_text(encoding="utf-8").lower()
    assert "acled" not in source and "event_id_cnty" not in source


def test_the_plugins_take_the_database_name_from_the_loader() -> None:
    """One constant names the database (loader.DATABASE_NAME): a plugin that
    spelled it would miss a rename."""
    spelled = [
        path.name
        for path in (PROJECT / "plugins").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "DATABASE" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    assert spelled == []
