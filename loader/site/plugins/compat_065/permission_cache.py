"""Decide each permission once per worker, not once per table on every page.

Datasette 0.65's own permission hook answers a view-table check by
deep-copying the whole of metadata.yml (every column's description, every
canned query) to find the table's `allow` blocks. The home and database
pages check every table and view, twice each (for the reader, and for
anyone, to mark private ones), and spent about 85% of their time copying:
about a hundred milliseconds a page whatever the number of events.

Nothing those decisions depend on changes while a worker runs: the database
is immutable, metadata.yml is read at start-up, and a decision is a function
of the actor, the action and the resource alone. So the first check of each
(actor, action, resource) is decided by every permission hook as usual and
kept, and later ones are given that decision without awaiting the hooks
again. Datasette still runs its own check around it, so the permissions
debug page lists every check.

No published plugin caches permission decisions; Datasette 1.0 resolves them
in SQL instead of copying the metadata.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from datasette import hookimpl
from datasette.utils import await_me_maybe

# Datasette instance: (actor as JSON, action, resource): the decision (None: no hook decided).
DECISIONS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, Any], Any]] = weakref.WeakKeyDictionary()


def decision_key(actor: Any, action: str, resource: Any) -> tuple[str, str, Any]:
    resource = tuple(resource) if isinstance(resource, list) else resource
    return json.dumps(actor, sort_keys=True, default=repr), action, resource


@hookimpl(hookwrapper=True)
def permission_allowed(datasette: Any, actor: Any, action: str, resource: Any) -> Any:
    outcome = yield
    decisions = DECISIONS.setdefault(datasette, {})
    key = decision_key(actor, action, resource)
    if key in decisions:
        outcome.force_result([decisions[key]])
        return
    answers = outcome.get_result()

    async def decide() -> Any:
        # Datasette's rule: the last hook that says anything decides.
        decided = None
        for answer in answers:
            answer = await await_me_maybe(answer)
            if answer is not None:
                decided = answer
        decisions[key] = decided
        return decided

    outcome.force_result([decide])
