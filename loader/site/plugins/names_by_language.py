"""An actor's and a place's names grouped by language on its page:
"English: …; Arabic: …; Arabic, in Latin letters: …; Hebrew: …".

The groups come from schema.sql's record_names (one row per name, with its
BCP 47 tag); the words for each tag are loader/records/languages.py's, which the
curator's `find` uses too, so a page and the desk name a language alike.
templates/_names_by_language.html renders them; templates/row.html includes
it on the pages of actors and places.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from loader import DATABASE_NAME as DATABASE
from loader.records.languages import language_name, language_order

NAMES = (
    "select name, lang, display from record_names where table_name = :table and record_id = :id"
    " order by lang, display desc, name"
)


def grouped(rows: list[dict]) -> list[dict]:
    """The names by language, English first; in each, the display name first."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["lang"], []).append({"name": row["name"], "display": bool(row["display"])})
    return [
        {"lang": lang, "language": language_name(lang), "names": groups[lang]}
        for lang in sorted(groups, key=language_order)
    ]


@hookimpl
def extra_template_vars(datasette: Any, database: str) -> dict:
    if database != DATABASE:
        return {}

    async def names_by_language(table: str, record_id: str) -> list[dict]:
        result = await datasette.get_database(DATABASE).execute(NAMES, {"table": table, "id": record_id})
        return grouped([dict(row) for row in result.rows])

    return {"names_by_language": names_by_language}
