"""The site as production runs it: Debian's nginx in front of several `serve` processes.

deploy/nginx.conf is the file a server installs; it differs between hosts in
a few values only (ports, host name, the release's folder, the user nginx's
workers run as, limits), which render_config fills. running() runs that same
file on this machine: nginx in the foreground with every path it writes
under a folder of its own (so it needs no root), and `serve` processes on
loopback ports behind it. Tests and the reliability run so exercise the very
configuration operators use, rather than a copy of it.

The `serve` processes form two lanes: the readers', which answer pages, and
the costly lane's, which answer what nginx.conf's `map` names costly (a
visitor's own SQL, facets and downloads). Profiling showed that a costly
request hurts readers mostly when both share a worker's event loop or SQL
threads; in processes of their own, at a lower CPU priority (COSTLY_NICENESS,
the deploy unit's Nice=), costly requests take the cores only when readers
leave them idle.

The `serve` processes trust forwarded headers only as loader/site/serve.py
decides; nginx overwrites X-Forwarded-Proto and Host on every request, so
whatever a client sends in them never reaches the site.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from .. import PROJECT_ROOT
from ..errors import LoaderError
from .serve import WORKERS, check_base_url, port_taken, serve_command

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf"
COSTLY_NICENESS = 10  # the costly lane's; deploy/costly-lane.conf's Nice= says the same
LOOPBACK = "127.0.0.1"
READY_PATH = "/-/versions.json"  # a page every worker answers once Datasette has started
# `%{name}` in deploy/nginx.conf, since nginx's own variables are written `$name`.
PLACEHOLDER = re.compile(r"%\{([a-z_]+)\}")


class ProductionError(LoaderError):
    """The production path cannot be started as asked."""


@dataclass(frozen=True)
class Limits:
    """What deploy/nginx.conf bounds; the defaults are a server's, and a test
    may shorten a timeout to see it act."""

    idle_timeout: int = 10  # seconds a connection may stay silent (no request, unfinished header, idle keep-alive)
    send_timeout: int = 30  # seconds a client may stop reading an answer
    connections_per_client: int = 20
    sql_per_client: int = 1  # requests carrying a visitor's own SQL at once, per client address
    requests_per_second: int = 20  # per client address, beyond a burst of request_burst
    request_burst: int = 100
    cache_keys_mb: int = 10  # the cache's key zone; about 8,000 keys a megabyte
    cache_max_size: str = "1g"  # the cache's files on disk


SERVER_LIMITS = Limits()


def nginx_binary() -> str:
    """Debian installs nginx in /usr/sbin, which an unprivileged PATH may lack."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', os.defpath)}{os.pathsep}/usr/sbin")
    if found is None:
        raise ProductionError("nginx is not installed: apt-get install nginx (make tools does it)")
    return found


def render_config(
    *,
    listen: str,
    host: str,
    serve_ports: Sequence[int],
    costly_ports: Sequence[int],
    release_csv: Path,
    user: str,
    access_log: str = "logs/access.log",
    limits: Limits = SERVER_LIMITS,
    base_url: str = "/",
) -> str:
    """deploy/nginx.conf for one site: nginx listens on `listen` (`port` or
    `address:port`), names the site `host` to the readers' `serve` processes
    on serve_ports of loopback and the costly lane's on costly_ports, and
    sends whole tables from release_csv; the site is under base_url, as
    its `serve` processes are told (`--base-url`)."""
    check_base_url(base_url)
    if not serve_ports or not costly_ports:
        raise ProductionError("behind nginx, at least one serve port is needed for readers and one for the costly lane")
    if set(serve_ports) & set(costly_ports):
        raise ProductionError("a serve port cannot be in both the readers' lane and the costly lane")

    def servers(ports: Sequence[int]) -> str:
        return "\n".join(f"        server {LOOPBACK}:{port} max_fails=1 fail_timeout=10s;" for port in ports)

    values = {
        "listen": listen,
        "host": host,
        "reader_servers": servers(serve_ports),
        "costly_servers": servers(costly_ports),
        "release_csv": str(release_csv.resolve()),
        "user": user,
        "access_log": access_log,
        "base_url": base_url,
        # check_base_url allows only letters, digits and - . _ ~ between the
        # slashes, of which only . means more than itself to nginx's PCRE.
        "base_url_pattern": base_url.replace(".", "\\."),
        **{name: str(value) for name, value in asdict(limits).items()},
    }
    return PLACEHOLDER.sub(lambda placeholder: values[placeholder[1]], NGINX_TEMPLATE.read_text(encoding="utf-8"))


@dataclass
class Production:
    """A running production path: its address, and its processes, each the
    leader of its own process group (a `serve` has uvicorn's workers):
    nginx, the readers' `serve` processes and the costly lane's."""

    base: str
    base_url: str
    nginx: subprocess.Popen
    serves: list[subprocess.Popen]
    costly: list[subprocess.Popen]


def _start(command: list[str], log: IO[bytes]) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Asks the process to stop, which stops its children in order (`serve`
    its uvicorn workers, nginx its workers), then kills whatever of its
    process group is left."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _wait_until_answers(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if process.poll() is not None:
                raise ProductionError(f"{url}: the server exited:\n{log.read_text(errors='replace')}") from None
            if time.monotonic() > deadline:
                raise ProductionError(
                    f"{url} did not answer in {timeout:g} s:\n{log.read_text(errors='replace')}"
                ) from None
            time.sleep(0.25)


@contextmanager
def running(
    db: Path,
    sources: Path,
    run_dir: Path,
    port: int,
    serve_ports: Sequence[int],
    costly_ports: Sequence[int],
    release: Path | None = None,
    limits: Limits = SERVER_LIMITS,
    timeout: float = 120,
    base_url: str = "/",
    workers: int = WORKERS,
) -> Iterator[Production]:
    """nginx on loopback `port` in front of one `serve` of db on each of
    serve_ports (the readers') and costly_ports (the costly lane's, run at
    COSTLY_NICENESS), until the block ends. run_dir holds nginx's
    configuration, logs (logs/access.log names the `serve` that answered each
    request), temporary files and cache, and each process's output. release
    is a folder `make release` wrote (its csv/ is served as files); without
    one every table's CSV comes from the site. base_url: the path the site
    is under, for nginx and the `serve` processes alike (Production.base is
    the address without it). workers: each `serve`'s worker processes."""
    nginx = nginx_binary()
    taken = [p for p in (port, *serve_ports, *costly_ports) if port_taken(p)]
    if taken:
        raise ProductionError(f"port {taken[0]} is already in use")
    logs = run_dir / "logs"
    for folder in (logs, run_dir / "temp", run_dir / "no-release"):
        folder.mkdir(parents=True, exist_ok=True)
    config = run_dir / "nginx.conf"
    config.write_text(
        render_config(
            listen=f"{LOOPBACK}:{port}",
            host=f"{LOOPBACK}:{port}",
            serve_ports=serve_ports,
            costly_ports=costly_ports,
            release_csv=(release / "csv") if release else run_dir / "no-release",
            user=pwd.getpwuid(os.geteuid()).pw_name,
            limits=limits,
            base_url=base_url,
        ),
        encoding="utf-8",
    )
    niced = ["nice", "-n", str(COSTLY_NICENESS)]
    with ExitStack() as stack:
        started: list[subprocess.Popen] = []
        waits: list[tuple[str, subprocess.Popen, Path]] = []
        # The first `serve` builds the database if it is stale and counts its
        # tables; the others start once that is done, so none races it.
        for serve_port in (*serve_ports, *costly_ports):
            log_path = logs / f"serve-{serve_port}.log"
            command = serve_command(
                sources, db, serve_port, "--trusted-proxy", LOOPBACK, "--base-url", base_url, "--workers", str(workers)
            )
            process = _start(
                [*(niced if serve_port in costly_ports else []), *command],
                stack.enter_context(log_path.open("wb")),
            )
            stack.callback(_stop, process)
            started.append(process)
            waits.append((f"http://{LOOPBACK}:{serve_port}{READY_PATH}", process, log_path))
            if len(waits) == 1:
                _wait_until_answers(*waits[0], timeout)
        for url, process, log_path in waits[1:]:
            _wait_until_answers(url, process, log_path, timeout)
        nginx_log = logs / "nginx.log"
        proxy = _start(
            [nginx, "-p", f"{run_dir.resolve()}/", "-c", str(config.resolve()), "-g", "daemon off;"],
            stack.enter_context(nginx_log.open("wb")),
        )
        stack.callback(_stop, proxy)
        base = f"http://{LOOPBACK}:{port}"
        _wait_until_answers(f"{base}{base_url.rstrip('/')}{READY_PATH}", proxy, nginx_log, timeout)
        yield Production(base, base_url, proxy, started[: len(serve_ports)], started[len(serve_ports) :])
