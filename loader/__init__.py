"""Turn hand-curated records of political events into a SQLite database."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("event-store")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

# The loader works on a checkout: schema.sql, sources/ and metadata.yml sit
# beside the package, and the database is written next to them by default.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Datasette names a database after its file, and metadata.yml, the site's
# links and the plugins all refer to it by this name: /events/..., events.db.
DATABASE_NAME = "events"
DATABASE_FILE = f"{DATABASE_NAME}.db"
