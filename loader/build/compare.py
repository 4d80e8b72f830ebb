"""Two databases attached to one connection, compared row by row on their keys.

A build says how each import's events differ from the database it replaces,
and a release says what changed since the release before; both ask SQL the
same questions of two attached databases (which keys only one side has,
which rows differ), so both ask them here.
"""

from __future__ import annotations

from collections.abc import Sequence


def key_sql(alias: str, key: Sequence[str]) -> str:
    """A row's key as one text value: its columns joined by '/'."""
    return " || '/' || ".join(f"{alias}.[{column}]" for column in key)


def _same_key(key: Sequence[str]) -> str:
    return " AND ".join(f"o.[{column}] = t.[{column}]" for column in key)


def only_in(here: str, there: str, table: str, key: Sequence[str], where: str = "1") -> str:
    """SELECT of the keys of `here`'s rows of a table that `there` has no row
    with, among the rows `where` (over alias t) keeps."""
    return (
        f"SELECT {key_sql('t', key)} FROM {here}.[{table}] AS t WHERE ({where}) "
        f"AND NOT EXISTS (SELECT 1 FROM {there}.[{table}] AS o WHERE {_same_key(key)})"
    )


def differing(here: str, there: str, table: str, key: Sequence[str], columns: Sequence[str]) -> str:
    """SELECT of the key, then each column's value on `there` and on `here`
    (in pairs), of the rows both sides have whose columns differ."""
    differs = " OR ".join(f"o.[{c}] IS NOT t.[{c}]" for c in columns)
    pairs = ", ".join(f"o.[{c}], t.[{c}]" for c in columns)
    return (
        f"SELECT {key_sql('t', key)}, {pairs} FROM {here}.[{table}] AS t "
        f"JOIN {there}.[{table}] AS o ON {_same_key(key)} WHERE {differs}"
    )
