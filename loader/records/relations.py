"""Check what the rows of event_relations cannot say one at a time: a
sequence that comes back round to where it started.

schema.sql holds each relation to the vocabulary, to its two events being
two, and to a citation or the mark of an inference; cross_check finds the
events it names and duplicates; evidence checks its locators. What is left
needs every relation at once: a process that is part of one of its own
parts, or a round that follows a round after it, has no first step, so no
page could put it in order, and a curator's slip (a `from` and a `to`
swapped) is the likeliest cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..problems import Problem
from ..rules import Record

# The relations that order events, and so may never come back round.
ORDERING = ("part_of", "follows")


def check(records: Iterable[Record]) -> list[Problem]:
    """Each cycle of part_of or follows, named whole once, at the relation
    that leaves the id of the cycle that sorts first."""
    by_type: dict[str, dict[tuple[str, str], Record]] = defaultdict(dict)
    for record in records:
        if record.table != "event_relations":
            continue
        start, type_, end = (record.values.get(c) for c in ("from_event_id", "type", "to_event_id"))
        if type_ in ORDERING and isinstance(start, str) and isinstance(end, str) and start != end:
            by_type[type_].setdefault((start, end), record)
    problems = []
    for type_, links in sorted(by_type.items()):
        for cycle in cycles(links):
            path = " → ".join(f"'{id_}'" for id_ in [*cycle, cycle[0]])
            record = links[(cycle[0], cycle[1])]
            problems.append(
                record.problem(
                    "to_event_id",
                    f"{type_} goes round in a circle: {path}; one of these relations is written the wrong way round",
                )
            )
    return problems


def cycles(links: Iterable[tuple[str, str]]) -> list[list[str]]:
    """One cycle through each knot of links that has any, each starting at its
    smallest id, found without recursion (a sequence may be long)."""
    successors: dict[str, set[str]] = defaultdict(set)
    for start, end in links:
        successors[start].add(end)
    # Whatever leads to no cycle is pared away, leaf by leaf.
    remaining = {node for node in successors}
    changed = True
    while changed:
        changed = False
        for node in sorted(remaining):
            if not successors[node] & remaining:
                remaining.discard(node)
                changed = True
    found: list[list[str]] = []
    seen: set[str] = set()
    for node in sorted(remaining):
        if node in seen:
            continue
        walk: list[str] = []
        while node not in walk:
            walk.append(node)
            node = min(successors[node] & remaining)
        cycle = walk[walk.index(node) :]
        seen.update(walk)
        if not set(cycle) & {n for c in found for n in c}:
            first = cycle.index(min(cycle))
            found.append(cycle[first:] + cycle[:first])
    return found
