"""How the dataset is cited: who made it, and the address its records are cited at.

A citation is read long after, and away from, the server that printed it:
the address a visitor happened to reach (127.0.0.1 under `make serve`, or one
of several servers behind a proxy) is no place to send a reader. So the
site's permanent address is set once, in metadata.yml,

    plugins:
      event-store-site:
        permalink: https://events.example.org/

(under a path prefix, the address with the prefix: https://example.org/events/)
and every citation, feed, calendar entry, GeoJSON feature and CITATION.cff
builds its absolute links on it. The repository's metadata.yml gives the
address `make serve` answers at (http://127.0.0.1:8001/); whoever publishes
the site sets its public address there. The authors are named here once, so
that the event pages' BibTeX and a release's CITATION.cff name the same.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .errors import LoaderError

# The plugin configuration (metadata.yml's plugins:) that holds the site's own settings.
SITE_SETTINGS = "event-store-site"
# Who made the dataset: one body, not a person; BibTeX gets it in double braces
# so that it is not read as a person named "curators".
AUTHOR = "The event store curators"


class PermalinkError(LoaderError):
    """A permalink setting that is not an absolute http(s) address."""


def permalink_base(settings: dict[str, Any] | None) -> str | None:
    """The permalink base (no trailing slash) from the site's settings, None when unset."""
    value = (settings or {}).get("permalink")
    if value in (None, ""):
        return None
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise PermalinkError(
            f"{SITE_SETTINGS}: permalink: expected an absolute http(s) address such as "
            f"https://events.example.org/ (got {value!r})"
        )
    return str(value).rstrip("/")


def metadata_permalink(metadata: dict[str, Any]) -> str | None:
    """The permalink base that a metadata.yml, as parsed, sets."""
    return permalink_base((metadata.get("plugins") or {}).get(SITE_SETTINGS))


def site_permalink(datasette: Any) -> str | None:
    """The permalink base of a running site (a Datasette), None when its metadata sets none."""
    return permalink_base(datasette.plugin_config(SITE_SETTINGS))


def permalink(base: str, path: str, base_url: str = "/") -> str:
    """path at the permalink base; a full URL is left as it is.

    path is as the site's own pages link it: under Datasette's base_url when
    a proxy serves the site under a prefix (/prefix/events/events/ID). The
    base is the site's public address, which holds that prefix already
    (https://example.org/prefix/), so the prefix is taken off the path
    rather than written twice."""
    if "://" in path:
        return path
    return base + "/" + path.removeprefix(base_url).lstrip("/")
