"""Serving at more than one machine: the Datasette commands that package or
publish a release with exactly the settings `serve` uses.

The served database is immutable, so a site under heavy reading runs as many
stateless copies as it needs behind any load balancer or CDN. Datasette's own
`datasette package` (a container image) and `datasette publish` (hosted
platforms) make those copies; this module writes their command lines from
loader/site/worker.py's SETTINGS, the project's wheel (which carries the site's
plugin package, its templates and static files) and the published Datasette
plugins it depends on, so docs/replicas.md, which it renders, can never
drift from what `serve` does.
Run `python -m loader.site.replicas` to rewrite that file.
"""

from __future__ import annotations

import re
import shlex
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

from .. import DATABASE_NAME, PROJECT_ROOT, __version__
from ..metadata import METADATA_PATH
from .serve import WORKERS, setting_arguments
from .worker import WORKER_ADDRESS_SPACE, inspect_path

DOC_PATH = PROJECT_ROOT / "docs" / "replicas.md"
DB = f"{DATABASE_NAME}.db"
# `pip wheel . --no-deps -w wheel` writes the project's wheel here, and
# `--static wheel:wheel` puts this directory into the image's build context.
WHEEL_DIR = "wheel"


def wheel_path() -> str:
    """The project's wheel, as the image's `pip install` finds it (in /app, the context)."""
    return f"{WHEEL_DIR}/event_store-{__version__}-py3-none-any.whl"


def setting_options() -> list[str]:
    """The --setting NAME VALUE arguments that give Datasette serve's own settings."""
    return setting_arguments()


def plugins() -> list[str]:
    """Datasette as the project pins it (the image would otherwise get the
    newest Datasette) and the plugins it installs: its datasette* dependencies.

    Each as NAME~=LOWEST: `datasette package` writes them unquoted into a
    shell RUN line, where the '>' and '<' of the project's own specifiers
    would be redirections."""
    try:
        declared = requires("event-store") or []
    except PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([^;]*)(;.*)?$", requirement)
        if not match or match.group(3) or not match.group(1).lower().startswith("datasette"):
            continue
        lowest = re.search(r">=\s*([0-9][\w.]*)", match.group(2))
        found.append(f"{match.group(1)}~={lowest.group(1)}" if lowest else match.group(1))
    return sorted(found)


def _relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def wheel_command() -> list[str]:
    """Builds the project's wheel where common_options expects it."""
    return ["pip", "wheel", ".", "--no-deps", "-w", WHEEL_DIR]


def common_options() -> list[str]:
    """What `datasette package` and every `datasette publish` take alike: the
    metadata, the project's wheel (the site's plugin package, templates and
    static files, and the loader they import) and the plugins it needs."""
    install = [arg for name in [wheel_path(), *plugins()] for arg in ("--install", name)]
    return [
        "--metadata",
        _relative(METADATA_PATH),
        "--static",
        f"{WHEEL_DIR}:{WHEEL_DIR}",
        *install,
        "--extra-options",
        " ".join(setting_options()),
    ]


def package_command(db: str = DB, tag: str = "event-store") -> list[str]:
    return ["datasette", "package", db, "--tag", tag, *common_options()]


def publish_command(platform: str, db: str = DB, service: str = "event-store") -> list[str]:
    names = {"cloudrun": "--service", "heroku": "--name", "fly": "--app", "vercel": "--project"}
    return ["datasette", "publish", platform, db, names[platform], service, *common_options()]


def _shell(command: list[str]) -> str:
    """One option and its value a line."""
    lines: list[list[str]] = [[]]
    for arg in command:
        if arg.startswith("--") and lines[-1]:
            lines.append([])
        lines[-1].append(shlex.quote(arg))
    return " \\\n    ".join(" ".join(line) for line in lines)


def render() -> str:
    release_db = "dist/event-store-VERSION/events.db"
    return f"""# Many replicas

<!-- Written by `python -m loader.site.replicas` from loader/site/worker.py's SETTINGS; do not edit by hand. -->

The served database is immutable: nothing writes to it while it is served, and
it changes only when a new release (or build) replaces the file. So a site under
heavy reading runs as many stateless copies as it needs, behind any load
balancer or CDN, each with the same file. Pages may be cached for
`default_cache_ttl` seconds; Datasette sends `Cache-Control` for that long.

Each copy must serve the release's `events.db` under that name (the metadata
and the site's links call the database `events`), with the project's metadata,
the project itself installed (its wheel: the site's Datasette plugin package,
with its templates and static files, and the loader it imports) and the
settings `serve` uses:

```
{" ".join(setting_options())}
```

## A container image: `datasette package`

Run in a checkout, with Docker installed, for a release's database copied to
`events.db` (`cp {release_db} events.db`), after building the project's
wheel into `{WHEEL_DIR}/`:

```sh
{" ".join(wheel_command())}
{_shell(package_command())}
```

`--static {WHEEL_DIR}:{WHEEL_DIR}` is how the wheel gets into the image's build
context, where its `pip install` finds it; it also serves the wheel at
`/{WHEEL_DIR}/`, the site's own code, public anyway. The plugins named beside
it are its dependencies already; they are listed to pin them, unquoted
(`datasette package` writes them into a shell `RUN` line).

then run as many containers of the image as needed
(`docker run -p 8001:8001 event-store`) behind the load balancer. The image
runs `datasette inspect` once at build time, so no copy counts rows at start.

## Hosted platforms: `datasette publish`

The same options go to `datasette publish` for each hosted platform (its
plugin installed: `datasette-publish-fly`, `datasette-publish-vercel`; Cloud
Run and Heroku are built in), for example Google Cloud Run, which scales the
number of copies with the traffic:

```sh
{_shell(publish_command("cloudrun"))}
```

## More copies: what each needs, what they share

What each copy needs, whatever serves it:

- **the file**: the release's `{DB}`, whole, on the copy's own disk;
- **its inspect data**: the row counts `datasette inspect` writes
  (`serve` keeps them beside the file as `{inspect_path(Path(DB)).name}`; the image
  makes them at build time), so a copy answers at once instead of counting
  rows at start;
- **memory**: each `serve` runs {WORKERS} workers, each capped at
  {WORKER_ADDRESS_SPACE / 1024**3:g} GB of address space; the size of an idle worker, and the most
  one request may add to it, are the Memory section of
  [docs/reliability.md](reliability.md#memory), and the most a worker grew
  under each load is in its [Load](reliability.md#load) section. The
  production path adds nginx's cache, bounded on disk (deploy/README.md).

What copies share: nothing. No database server, no session, no lock: the
SQL gate's turn and every cache are each copy's own. So a page one copy has
computed is computed again by the next, unless a shared cache (a CDN) is in
front; and one client's costly requests cost only the copies they reach.

The projection. The part "More `serve` processes" of
[docs/reliability.md's Load section](reliability.md#load) measures the
production path with several counts of readers' `serve` processes on one machine,
the load's client on the same cores (its share is given beside each run). More
processes there add workers, not cores: the distinct-URL runs show the
requests/s of pages computed afresh that one machine's cores give, and where
they stop rising with the count, the cores are full. Because copies share
nothing, N machines like it behind a load balancer that spreads requests
evenly serve about N times that figure (a little more: here the client took
its share of the same cores), at the latencies one machine shows under its
share of the load; latency falls only as each copy's load does. Repeated pages are answered by
caches, so they scale with the cache layer (nginx per machine, or a CDN for
all), not with copies. This is a projection from one machine's figures: no
load balancer and no second machine were measured here.

## What was tested here

`tests/test_replicas.py` builds the wheel as above, makes the build context
that `datasette package` makes (Datasette's own `temporary_docker_directory`,
with the options above), and does what the Dockerfile does, without Docker:
its `pip install` line into a new, empty virtual environment, then its
`datasette inspect` step and its `CMD`, in the context directory, on
127.0.0.1. It checks that the copy serves every setting of `serve`, the
project's templates, plugins and static files, and the same pages as
`serve`. Building the
image with Docker, and publishing to any hosted platform, were not tested here:
neither Docker nor those platforms are reachable from the test machines.
"""


def main() -> None:
    DOC_PATH.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
