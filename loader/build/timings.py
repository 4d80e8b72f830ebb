"""How long each step of a build took, so that a slow build says where its time went.

Wall-clock time and CPU time are kept side by side: on a shared machine the
first is slowed by other work, and where steps run beside each other (the
reading process beside the writing, the integrity check beside the counts)
the second exceeds it. CPU time includes that of the processes a step
started and waited for.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def _cpu() -> float:
    usage = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usage)


@dataclass
class Timings:
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)  # step: (wall s, CPU s)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            self.steps[name] = (time.perf_counter() - wall, _cpu() - cpu)

    def lines(self) -> list[str]:
        return [f"{name}: {wall:.2f} s, CPU {cpu:.2f} s" for name, (wall, cpu) in self.steps.items()]
