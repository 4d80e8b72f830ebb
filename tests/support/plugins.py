"""The site's plugins as modules, for tests of their functions.

Datasette loads `plugins/` by file name (`--plugins-dir`), not as a package,
so a test loads a plugin's file the same way."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from loader.serve import PLUGINS_PATH


def plugin_module(name: str) -> ModuleType:
    """plugins/NAME.py, loaded afresh."""
    spec = importlib.util.spec_from_file_location(f"plugin_{name}", PLUGINS_PATH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
