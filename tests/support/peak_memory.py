"""Run a command under a cap on its address space and write down its peak
resident memory: `python -m tests.support.peak_memory LIMIT OUTPUT COMMAND...`.

On Linux a process's peak resident size (ru_maxrss) starts at the size of the
process that forked it, since exec keeps the forking process's high-water mark:
a build started straight from a test process that has grown to 500 MB reports
500 MB, whatever it used itself. Started from this small interpreter, the
command's figure is its own peak plus at most this interpreter's few megabytes.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path


def main(arguments: list[str]) -> int:
    limit, output, *command = arguments
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    code = subprocess.call(command)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    Path(output).write_text(str(peak), encoding="utf-8")
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
