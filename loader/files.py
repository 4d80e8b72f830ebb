"""Files the package reads and must leave as they are: a database opened
read-only, any file's SHA-256, and YAML read whole.

A build, a release, an import's record and the site's CSV export all read
files they must not change; each opens them here, so that "read-only" and
"the digest of a file" mean one thing wherever they are used.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import yaml

# PyYAML's libyaml parser where it is installed: some twenty times faster than
# a pure-Python one. Whatever is read whole and needs no line numbers (every
# version of a file in history, metadata.yml at each worker's start, the
# desk's reads) is parsed here; the validator, which reports lines, is not.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def readonly_uri(path: Path | str, immutable: bool = False) -> str:
    """The SQLite URI that opens a database read-only. `immutable` also tells
    SQLite that nothing else writes to it, so it takes no locks: only for a
    file no process changes while it is open (a served build)."""
    return f"{Path(path).absolute().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"


def connect_readonly(path: Path | str, immutable: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection that cannot write to the database, nor create it when it is missing."""
    return sqlite3.connect(readonly_uri(path, immutable), uri=True, check_same_thread=check_same_thread)


def sha256_file(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time (hashlib.file_digest is 3.11+)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def parse_yaml(text: str) -> Any:
    """YAML's safe subset, as PyYAML reads it: as Datasette reads metadata.yml too."""
    return yaml.load(text, Loader=SAFE_LOADER)
