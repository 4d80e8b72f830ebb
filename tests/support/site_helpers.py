"""Start the real site and a real browser, for the browser tests and the screenshots.

The site is `python -m loader serve` as a user runs it, on a free port of
127.0.0.1; the browser is Debian's Chromium driven by Playwright, never a
browser Playwright downloads, so the tests run with no internet.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from loader.site.serve import serve_command

CHROMIUM = Path("/usr/bin/chromium")
# axe-core, installed by `npm install --prefix .axe axe-core@4` (.ci/run does it).
AXE = Path(__file__).resolve().parents[2] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium's features the tests switch off besides Playwright's: the address
# bar's drop-down, a WebUI page that Chromium's headless mode preloads in a
# renderer of its own for every browser context's window. No test looks at an
# address bar, and it was a third or more of Chromium's CPU time (tests/browser/
# test_site.py: 112 CPU-seconds in all with it, 56 without).
DISABLED_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup")
# Playwright's own --disable-features switch, read off its first browser (launch()).
_playwrights_switch: list[str] = []


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1, all different: bound together, then let go."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def wait_until_served(
    url: str, process: subprocess.Popen, timeout: float = 60, output: Callable[[], str] = lambda: ""
) -> bytes:
    """The body of url once the starting server `process` answers it; a clear
    error, with the server's `output()`, if it exits first or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url) as response:
                return response.read()
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{output()}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {url} in {timeout:g} s") from None
            time.sleep(0.25)


@contextmanager
def serving(sources: Path, db: Path, timeout: float = 60) -> Iterator[str]:
    """Run `python -m loader serve` until the block ends; yield its base URL.

    With one worker process, not serve's default: these sites are read
    for their pages, which every worker answers alike, and each worker's
    start costs a core a second or more. How several workers share the
    load is test_serve_supervision's and test_load's, on serving_process."""
    with serving_process(sources, db, timeout, options=("--workers", "1")) as (base, _):
        yield base


@contextmanager
def serving_process(
    sources: Path,
    db: Path,
    timeout: float = 60,
    address_space: int | None = None,
    port: int | None = None,
    options: tuple[str, ...] = (),
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As serving(), yielding the server process too; `address_space` caps
    the virtual memory of it and of each of its workers, in bytes; `port` is
    a free one unless given; `options` are serve's."""

    def limit() -> None:
        if address_space:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    port = port or free_port()
    # A file, not a pipe: nobody reads the access log while the site runs, and
    # once a pipe's buffer filled (a few hundred requests) the server would block.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        serve_command(sources, db, port, *options),
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=limit,
    )
    base = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read().decode()

    try:
        wait_until_served(f"{base}/-/versions.json", process, timeout, output)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a worker still busy with an answer, as when a test failed
            process.kill()  # its workers die with it (PR_SET_PDEATHSIG)
            process.wait()
        log.close()


def cpu_seconds(*pids: int) -> float:
    """The processes' CPU time so far, their threads' and their reaped children's."""
    fields = (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in pids)
    return sum(int(value) for stat in fields for value in stat[11:15]) / os.sysconf("SC_CLK_TCK")


def process_memory(pid: int) -> dict[str, int]:
    """A process's memory figures from /proc (VmRSS, VmHWM, ...), in bytes."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in lines) if v.strip().endswith("kB")}


def worker_pids(pid: int) -> list[int]:
    """The server's worker processes: uvicorn's children that multiprocessing spawned."""
    return [child for child in children_of(pid) if b"spawn_main" in proc_file(child, "cmdline")]


def children_of(pid: int) -> list[int]:
    """A process's children, from each of its threads: Linux lists a child
    under the thread that started it, whichever that was."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in proc_file(task, "children").split()]


def proc_file(process: int | Path, name: str) -> bytes:
    """A file of /proc/PID or of a thread's /proc/PID/task/TID; empty if the
    process or thread has ended since it was listed (a worker retiring, a
    build's thread), as happens while a server reloads."""
    try:
        return (Path(f"/proc/{process}") if isinstance(process, int) else process).joinpath(name).read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


# Each served process's cap on its address space in the memory tests: a
# regression fails there instead of exhausting the machine.
ADDRESS_SPACE = 1536 * 1024**2
# What a worker may keep above idle once it has answered (loader/site/plugins/memory_release.py).
SETTLED_BYTES = 16 * 1024**2


@contextmanager
def limited_site(db: Path) -> Iterator[tuple[str, list[int]]]:
    """The site over db (beside its sources/) with each process capped at
    ADDRESS_SPACE, every worker warmed by a page and a query, and their pids."""
    with serving_process(db.parent / "sources", db, address_space=ADDRESS_SPACE) as (base, process):
        with httpx.Client(base_url=base, timeout=60) as warm:
            for _ in range(12):  # every worker has served a page and a query
                warm.get("/events/events")
                warm.get("/events.json", params={"sql": "select 1"})
        yield base, worker_pids(process.pid)


@contextmanager
def within_memory(workers: list[int], bound: int) -> Iterator[None]:
    """Hold what the block asks of the workers to `bound` bytes above their
    idle size at its peak, and to SETTLED_BYTES once answered."""
    assert workers
    idle = {pid: process_memory(pid)["VmRSS"] for pid in workers}
    for pid in workers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM) to the present size
    yield
    for pid in workers:  # a worker that died has no /proc entry, and fails here
        peak = process_memory(pid)["VmHWM"] - idle[pid]
        assert peak < bound, f"worker {pid} peaked {peak >> 20} MB above idle"
    settled = time.monotonic() + 15  # the worker frees the request's memory as its objects are collected
    while (kept := max(process_memory(pid)["VmRSS"] - idle[pid] for pid in workers)) >= SETTLED_BYTES:
        assert time.monotonic() < settled, f"a worker kept {kept >> 20} MB after the request"
        time.sleep(0.1)


def launch(playwright):
    """Debian's Chromium with CHROMIUM_ARGS and DISABLED_FEATURES off besides
    Playwright's list. Chromium obeys only the last --disable-features switch,
    and Playwright passes its own with no way to add to it (microsoft/playwright
    issue 36658 asks for one; with it this goes): so the first browser of the
    process tells Playwright's switch, and every browser is launched with one
    switch in its place that carries both lists."""
    if not _playwrights_switch:
        first = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            _playwrights_switch.append(feature_switches(first)[-1])
        finally:
            first.close()
    (switch,) = _playwrights_switch
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, ",".join([switch, *DISABLED_FEATURES])],
        ignore_default_args=[switch],
    )


def feature_switches(browser) -> list[str]:
    """The --disable-features switches on the browser process's command line, in their order."""
    processes = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")["processInfo"]
    (pid,) = (process["id"] for process in processes if process["type"] == "browser")
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return [argument for argument in arguments if argument.startswith("--disable-features=")]


# axe.run with the rules off that can find nothing of the impacts asked for:
# a finding's impact is its rule's or its failed checks', so a rule none of
# whose is among them only costs time (about a third of axe's, in this site's
# pages), and the findings of the impacts asked for are the same.
AXE_RUN = """async impacts => {
  const checks = rule => [...rule.any, ...rule.all, ...rule.none].map(c => axe._audit.data.checks[c.id || c] || {});
  const mild = rule => [rule, ...checks(rule)].every(c => c.impact && !impacts.includes(c.impact));
  const rules = Object.fromEntries(axe._audit.rules.filter(mild).map(r => [r.id, {enabled: false}]));
  return await axe.run(document, {resultTypes: ['violations'], rules});
}"""


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core in the page as it stands; the violations of the given impacts."""
    page.add_script_tag(path=str(AXE))
    return axe_run(page, impacts)


def axe_at_every_load(context) -> None:
    """Give every page the browser context loads axe-core as it loads, for a
    test that checks many pages (axe_run then runs it). Measured: a script tag
    added to a loaded page cost 0.2 s a page, compiled afresh each time; as
    the context's init script it is compiled once in the page's renderer and
    costs nothing more to a load."""
    context.add_init_script(path=str(AXE))


def axe_run(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """As axe_violations, in a page that has axe-core since its load
    (axe_at_every_load) or since an earlier axe_violations."""
    result = page.evaluate(AXE_RUN, list(impacts))
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]
