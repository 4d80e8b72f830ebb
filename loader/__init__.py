"""Turn hand-curated records of political events into a SQLite database."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("event-store")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"


def project_root() -> Path:
    """Where schema.sql, sources/ and metadata.yml are: beside the package in
    a checkout (or an editable install); for a package installed into
    site-packages, the directory it is run from, the repository's root."""
    beside = Path(__file__).resolve().parent.parent
    return beside if (beside / "schema.sql").is_file() else Path.cwd()


# The database is written next to them by default.
PROJECT_ROOT = project_root()

# Datasette names a database after its file, and metadata.yml, the site's
# links and the plugins all refer to it by this name: /events/..., events.db.
DATABASE_NAME = "events"
DATABASE_FILE = f"{DATABASE_NAME}.db"
