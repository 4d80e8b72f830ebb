"""Publish the database with Datasette, rebuilding it first when the sources changed.

`make serve` should always show what is in sources/ now, yet a restart should
not pay for a rebuild it does not need, so the database is rebuilt only when
it is missing or older than anything it is made from; and a second `make
serve` while one runs says so at once, before any build.

How it is served, and why. One Datasette process runs Python on one core at a
time and has three SQL threads: measured at 47.8 requests/s for 50 clients,
and three visitors looping runaway SQL held all three threads, so everyone
else waited (issue 15). The database is an immutable file, so any number of
processes can read it with nothing to coordinate. The site is therefore
uvicorn running Datasette's ASGI app in WORKERS processes (uvicorn's own
supervisor restarts a worker that dies), each with its own SQL threads, and
loader/site/plugins/sql_gate.py lets arbitrary SQL (`?sql=`) run one query at a time
across the workers, under a shorter time limit than pages get, so the other
threads (and a core) always serve pages; loader/site/plugins/response_cache.py answers
repeated pages from memory. The trade-offs:

- memory: each worker holds its own Datasette (about 60 MB idle), so the
  site's idle size is WORKERS times that; each request is bounded within its
  worker (loader/site/plugins/sql_limits.py);
- arbitrary SQL is slower under contention: beyond one query at a time the
  others wait (and get 503 after 5 s), and a query gets 1 s rather than the
  pages' 3 s;
- per-process caches (Datasette's, SQLite's page cache) are not shared, and
  the access log is off (a line per request costs CPU the two cores lack);
- the memory allocator is told (glibc's MALLOC_* variables) to give large
  blocks back to the system when freed, and loader/site/plugins/memory_release.py frees
  what a refused query leaves behind, so a worker returns to its idle size
  after a large page, at a small cost in speed.

How the server is kept in hand (issue 23, the red team's B1, B9, B11, B14):

- `serve` stays the parent: it runs uvicorn's supervisor in its own process
  (it used to replace itself with uvicorn), so that when it stops it can
  remove what it made. Each worker asks Linux to kill it when that parent
  dies (worker.py's die_with_supervisor), so a `kill -9` of the parent takes the workers
  and the port with it instead of leaving orphans that nothing restarts;
- each server has a private run directory, named to the workers by
  EVENT_STORE_RUN_DIR (the SQL gate's lock file lives there), removed when
  the server stops; a start removes those of servers that were killed, and
  the temporary file of a killed build even when nothing needs rebuilding;
- forwarded headers are trusted from nobody unless `trusted_proxy` names the
  proxy in front: uvicorn trusts X-Forwarded-Proto from 127.0.0.1 by default,
  so anyone on the machine could make the site (and its cache) build https
  links;
- connections: uvicorn closes a keep-alive connection idle for
  KEEP_ALIVE_SECONDS, but has no timeout before a request's head has
  arrived, so 1,000 silent connections and 1,000 half-sent requests stayed
  open for a minute; worker.py's RequestDeadlineProtocol closes a connection whose
  request is not complete REQUEST_SECONDS after it opened (or after its last
  answer). It does not limit a slow reader of a long answer, nor the count of
  connections: uvicorn's --limit-concurrency counts idle connections too, so
  a flood of silent ones would turn every visitor's request into a 503 for
  the deadline; the production proxy (nginx) is the place for per-client
  limits;
- memory: a worker retires after about MAX_REQUESTS requests (uvicorn's
  --limit-max-requests, with 10 % jitter so the workers do not all retire at
  once) and the supervisor starts a fresh one while the others serve, so
  memory that something keeps past its request (which memory_release cannot
  give back, B1) is returned; and each worker's address space is capped at
  worker.py's WORKER_ADDRESS_SPACE, so a runaway request fails with a MemoryError in its
  worker rather than growing until the machine's OOM killer picks a victim;
- uneven workers (B11): the workers share one listening socket, and the
  worker that wakes first accepts every connection waiting (asyncio accepts
  up to the backlog at once), so with keep-alive clients one worker can hold
  most connections while another sits idle. uvicorn has no remedy: it has no
  SO_REUSEPORT socket per worker, and its --backlog sets the listen queue
  and that batch together. Behind nginx, balance over several upstream
  connections (or one port per worker) instead.

`serve --reload` (`make curate`) is for a curator checking their work in a
browser: a thread of the parent watches the sources (watchfiles, the
watcher uvicorn's own --reload uses, woken by the system rather than by
polling) and, after a change, rebuilds the database and sends the parent
SIGHUP, on which uvicorn's supervisor starts fresh workers on the new file
and retires the old ones once the new are ready. It replaces them one at a
time, so with several a page may come from the old file for seconds after
another shows the change (measured: every worker new 7.6-8.5 s after a save
with three, 4.0-4.3 s with one): it runs one worker unless asked for more.
A build that fails (a bad edit) replaces nothing, so the last good database
stays served, and its problems go to the caller's `reloaded` to be shown.
uvicorn's own --reload would restart the workers on any change, valid or
not, and knows nothing of building.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
import watchfiles
from uvicorn.supervisors import Multiprocess

from .. import DATABASE_FILE, PROJECT_ROOT
from ..build.database import build, build_lock, recorded_imports, remove_stale_temporaries
from ..errors import BuildLocked, LoaderError
from ..imports.importer import Progress
from ..problems import display_path
from ..records.sources import source_files
from ..release import CHECKSUMS, is_released_copy
from ..schema import SCHEMA_PATH
from . import worker
from .worker import (
    BASE_URL_VARIABLE,
    DATABASE_VARIABLE,
    RUN_DIR_VARIABLE,
    SETTINGS,
    RequestDeadlineProtocol,
    inspect_path,
)

WORKERS = 3  # processes: one more than the cores, so one busy with a runaway leaves two
BASE_URL = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*")  # what check_base_url allows
RUN_DIR_PREFIX = "event-store-serve-"  # in the system's temporary directory
KEEP_ALIVE_SECONDS = 5  # uvicorn's default: an idle keep-alive connection is closed after this
# How long a reload's new worker may take to be ready before the supervisor
# gives up and keeps the old one (serving the old database): uvicorn's 5 s
# default was too short for a worker starting while the others serve, on two
# busy cores (measured: the restart was abandoned).
RELOAD_READY_SECONDS = 60
GRACEFUL_SHUTDOWN_SECONDS = 30  # a stopping worker finishes its answers (a large export) for this long at most
# A worker retires after this many requests (plus up to 10 %): at the 800
# requests/s of cached pages measured for the site, each worker every 75 s or
# so, for 1.3 s of CPU to start anew (measured); at uncached pages' 56/s, 18 min.
MAX_REQUESTS = 20_000
# glibc: blocks of 128 KB and more are mapped and unmapped on their own, and
# freed memory is trimmed, so a large response's memory goes back to the system.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_ARENA_MAX": "2"}


def inputs(sources: Path) -> list[Path]:
    """Everything a build reads; directories count, since deleting a file only touches its directory."""
    directories = [sources, *(p for p in sources.rglob("*") if p.is_dir())]
    return [SCHEMA_PATH, *directories, *source_files(sources)]


def is_stale(db: Path, sources: Path) -> bool:
    """Whether a build would change db: a source, or a file it imported, is
    newer (a missing import counts too, so the build says what to do)."""
    if not db.exists():
        return True
    built = db.stat().st_mtime
    imported = [spec.path for spec in recorded_imports(db)]
    return any(not path.exists() or path.stat().st_mtime > built for path in [*inputs(sources), *imported])


def write_inspect_file(db: Path) -> Path:
    """Count every table once, ahead of time: an immutable database never
    changes, so Datasette need not count rows on every page. Each process
    writes a file of its own and moves it into place, so that several
    `serve` of one database started at once (deploy/'s, the tests') do not
    write into one another's."""
    target = inspect_path(db)
    if target.exists() and target.stat().st_mtime >= db.stat().st_mtime:
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    subprocess.run([sys.executable, "-m", worker.__name__, str(db), str(partial)], check=True)
    os.replace(partial, target)
    return target


def check_base_url(base_url: str) -> None:
    """A base URL is a path between slashes, of letters, digits and - . _ ~
    only: Datasette joins the site's paths to it, and nginx.conf writes it
    into locations and regular expressions, where a space, a quote, a brace
    or a semicolon would change the configuration rather than the path."""
    if not BASE_URL.fullmatch(base_url):
        raise LoaderError(
            f"base URL {base_url!r}: expected a path that starts and ends with /, such as /events/, "
            "of letters, digits and - . _ ~ (Datasette joins the site's paths to it)"
        )


def serve_command(sources: Path, db: Path, port: int, *options: str) -> list[str]:
    """`serve` as a process of its own runs it, with this interpreter: what
    production starts behind nginx, and the tests and benchmarks start."""
    return [
        sys.executable,
        "-m",
        "loader",
        "serve",
        "--sources",
        str(sources),
        "--db",
        str(db),
        *options,
        "--port",
        str(port),
    ]


def setting_arguments() -> list[str]:
    """SETTINGS as Datasette's command line takes them (--setting NAME VALUE), for
    the commands that package or publish copies of the site (replicas.py)."""
    return [
        arg
        for name, value in SETTINGS.items()
        for arg in ("--setting", name, str(value).lower() if isinstance(value, bool) else str(value))
    ]


def uvicorn_config(
    port: int, workers: int, trusted_proxy: str | None, max_requests: int, reload: bool = False
) -> uvicorn.Config:
    """uvicorn's Config for this site (the module docstring says why each option)."""
    config = uvicorn.Config(
        app=f"{worker.__name__}:app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        http=RequestDeadlineProtocol,
        access_log=False,
        proxy_headers=trusted_proxy is not None,
        forwarded_allow_ips=trusted_proxy,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        limit_max_requests=max_requests,
        limit_max_requests_jitter=max_requests // 10,
    )
    if reload:
        config.timeout_worker_healthcheck = RELOAD_READY_SECONDS
    return config


def supervise(config: uvicorn.Config) -> None:
    """Run config.workers worker processes under uvicorn's supervisor until
    stopped, as uvicorn.run (0.55) does for two or more, and for one as well:
    given one worker, uvicorn.run answers in its own process with no
    supervisor, so limit_max_requests would end the whole server rather than
    retire a worker, SIGHUP (--reload) would start no fresh one, and the
    worker's own limits (die_with_supervisor, its address space) would fall
    on serve itself."""
    # uvicorn.run's app_dir: the workers import the app from the project.
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[config.bind_socket()]).run()


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something, most likely another `serve`, already listens on the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: closed connections do not count
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def _lock_directory(path: Path) -> int | None:
    """An open descriptor of the directory path holding its exclusive lock, or
    None when another process holds it. The lock is the process's own: it goes
    when the process dies, however it dies."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove_stale_run_directories() -> None:
    """Remove this user's run directories whose server is dead: nobody holds their lock."""
    for path in sorted(Path(tempfile.gettempdir()).glob(RUN_DIR_PREFIX + "*")):
        try:
            if path.lstat().st_uid != os.getuid():
                continue
            fd = _lock_directory(path)
        except OSError:  # gone meanwhile, or not a directory
            continue
        if fd is not None:
            shutil.rmtree(path, ignore_errors=True)
            os.close(fd)


@contextmanager
def run_directory() -> Iterator[Path]:
    """A directory private to this server, locked while it lives and removed when it stops."""
    remove_stale_run_directories()
    while True:
        path = Path(tempfile.mkdtemp(prefix=RUN_DIR_PREFIX))
        # Another server starting at this instant may take it for a dead
        # server's before it is locked, and remove it; then make another.
        try:
            fd = _lock_directory(path)
        except FileNotFoundError:
            continue
        if fd is not None and path.is_dir():
            break
        if fd is not None:
            os.close(fd)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_dead_build_leftovers(db: Path) -> None:
    """The temporary file of a build that was killed, which otherwise stays
    until the next build; one that is running keeps its own."""
    try:
        with build_lock(db.parent):
            remove_stale_temporaries(db)
    except BuildLocked:
        pass


Reloaded = Callable[[LoaderError | None], None]  # told of each rebuild after a change: None, or why it failed


def rebuild_on_change(
    db: Path, sources: Path, stop: threading.Event, reloaded: Reloaded, progress: Progress | None = None
) -> None:
    """Until stop is set: after each change to the sources, rebuild db and
    have uvicorn's supervisor (this process) replace its workers; a failed
    build leaves db and the workers as they were."""
    for _changes in watchfiles.watch(sources, SCHEMA_PATH, stop_event=stop):
        if not is_stale(db, sources):
            continue  # a file no build reads, such as an editor's swap file
        try:
            build(sources, db, progress=progress)
            write_inspect_file(db)
        except LoaderError as error:
            reloaded(error)
            continue
        # SIGHUP would end the process until uvicorn's supervisor handles it.
        while signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, None) and not stop.is_set():
            time.sleep(0.1)
        if not stop.is_set():
            os.kill(os.getpid(), signal.SIGHUP)
            reloaded(None)


def serve(
    db: Path,
    sources: Path,
    port: int,
    workers: int | None = None,
    trusted_proxy: str | None = None,
    max_requests: int = MAX_REQUESTS,
    progress: Progress | None = None,
    reloaded: Reloaded | None = None,
    base_url: str = "/",
) -> None:
    """Build if needed (reporting to progress; a release's own copy never
    is), then serve Datasette until stopped (SIGTERM or Ctrl-C).

    trusted_proxy: the address of a proxy in front (e.g. nginx's, "127.0.0.1"),
    whose X-Forwarded-Proto and X-Forwarded-For are believed; by default none.
    workers: by default WORKERS, or one when reloaded is given.
    reloaded: given, the sources are watched, and the site rebuilt and
    reloaded after each change (rebuild_on_change), reloaded told of each.
    base_url: the path the site is served under (Datasette's base_url), for
    a proxy that serves it at example.org/prefix/ and passes the prefix on.
    """
    check_base_url(base_url)
    if db.name != DATABASE_FILE:
        raise LoaderError(
            f"{db.name}: the database file must be named {DATABASE_FILE}, "
            "because metadata.yml and the site's links refer to it by that name"
        )
    if port_taken(port):
        raise LoaderError(
            f"port {port} is already in use: is the site already served at http://127.0.0.1:{port}/ ? "
            "(stop it, or choose another port: make serve PORT=8002)"
        )
    if is_released_copy(db):
        # A release's database is what its citations name: served as it
        # is, never rebuilt from whatever the sources hold today.
        if reloaded is not None:
            raise LoaderError(
                f"{display_path(db)} is a release's own copy (listed in its {CHECKSUMS}), served as it is: "
                "--reload would rebuild it from the sources; serve the working database to check changes"
            )
    elif is_stale(db, sources):
        build(sources, db, progress=progress)
    else:
        remove_dead_build_leftovers(db)
    write_inspect_file(db)
    stop = threading.Event()
    with run_directory() as run_dir:
        # The workers are new processes started from this environment.
        os.environ.update(
            {
                **ALLOCATOR,
                DATABASE_VARIABLE: str(db.resolve()),
                RUN_DIR_VARIABLE: str(run_dir),
                BASE_URL_VARIABLE: base_url,
            }
        )
        if reloaded is not None:
            threading.Thread(
                target=rebuild_on_change, args=(db, sources, stop, reloaded, progress), daemon=True, name="reload"
            ).start()
        if workers is None:
            workers = WORKERS if reloaded is None else 1
        try:
            supervise(uvicorn_config(port, workers, trusted_proxy, max_requests, reloaded is not None))
        finally:
            stop.set()
