"""Every import of the package goes downward through its layers
(loader.reference.LAYERS), so the folders show the real dependencies: a lower
layer that imports a higher one, or a folder that imports its neighbour in
the same row, fails here with the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from loader.reference import LAYERS, layer_of

PACKAGE = Path(__file__).resolve().parents[1] / "loader"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, dotted module) of every import of the package in a file, the
    relative ones resolved, those inside functions included."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "loader"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "loader":
                # `from . import evidence` names a module: judge the module, not its package
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violations(path: Path, root: Path = PACKAGE) -> list[str]:
    row, folder = layer_of(module_name(path, root))
    wrong = []
    for line, target in imported(path, root):
        target_row, target_folder = layer_of(target)
        if target_folder != folder and target_row >= row:
            wrong.append(
                f"{path.relative_to(root.parent)}:{line}: {folder} (layer {row}) imports {target} (layer {target_row})"
            )
    return wrong


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward(path):
    assert violations(path) == []


def test_every_folder_of_the_package_is_in_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders <= {name for row in LAYERS for name in row}


def test_an_upward_import_is_caught(tmp_path):
    """The check itself: a records module importing the build is reported,
    its import of a core module is not."""
    path = tmp_path / "loader" / "records" / "probe.py"
    path.parent.mkdir(parents=True)
    path.write_text("from ..rules import slug\n\n\ndef late():\n    from ..build.database import build\n")
    assert violations(path, tmp_path / "loader") == [
        "loader/records/probe.py:5: records (layer 1) imports loader.build.database.build (layer 2)"
    ]
