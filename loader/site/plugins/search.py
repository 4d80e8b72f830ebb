"""Search everything, by any spelling: /-/search?q=WORDS.

The full-text indexes find a word only as it is written, so a spelling no
alias records (Sheibani, Chaibani, Swaida) found nothing, and claims and
documents were found only in the spelling they use. So a query first goes
through the matcher the curator's `find` uses (loader/desk/names.py), over
the served database's actors and places: every record the words may name
is reached, and its every recorded name then searches events, documents and
claims. Words that name nothing are searched as written, as before. A query
that finds nothing offers the nearest names ("did you mean").

The matcher is built once per Datasette instance (so once per worker) and
kept on it: the database is served immutable, so its names cannot change
under it. The canned query `search` stays, for a reader who wants the SQL.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from loader import DATABASE_NAME as DATABASE
from loader.desk.find import matcher_from_database
from loader.desk.names import ARTICLES, TITLE_WORDS, Candidate, Entry, Matcher

# A record is reached by a name this close to one of its own (the desk's
# "may be the same name" threshold is 75; a reader's page shows only the
# likelier ones); a miss offers names down to SUGGEST.
REACH = 80.0
SUGGEST = 60.0
# Only records whose names match nearly as well as the best one are reached:
# a short skeleton (Sweida's "s d") also fits names that merely share it.
MARGIN = 8.0
# A whole query that reaches a record this well is one name, not several words.
WHOLE = 90.0
PER_KIND = 50  # rows shown of each kind; the count says how many there are
# The kinds of result, in the order the page groups them, with their heading.
KINDS = (
    ("actor", "Actors"),
    ("place", "Places"),
    ("event", "Events"),
    ("document", "Documents"),
    ("claim", "Claims"),
)
MATCHER_ATTRIBUTE = "_event_store_search_matcher"


async def matcher(datasette: Any) -> Matcher:
    """The served database's matcher, built on first use and kept on the instance."""
    found: Matcher | None = getattr(datasette, MATCHER_ATTRIBUTE, None)
    if found is None:
        found = await datasette.get_database(DATABASE).execute_fn(matcher_from_database)
        setattr(datasette, MATCHER_ATTRIBUTE, found)
    return found


def fts_query(phrases: list[str]) -> str:
    """An FTS5 query matching any of the phrases, each quoted so that a name's
    punctuation (al-Shaibani, As'ad) cannot break the query's syntax."""
    quoted = dict.fromkeys('"' + " ".join(p.replace('"', " ").split()) + '"' for p in phrases if p.strip('" '))
    return " OR ".join(quoted)


def words_query(q: str) -> str:
    """Every word of the query, each a quoted phrase (the canned query's rule)."""
    return " ".join('"' + w.replace('"', "") + '"' for w in q.split() if w.replace('"', ""))


# Each kind's rows: name, detail, url, and a rank (lower first). :match is
# an FTS query of every term (a word as written, or every name of the
# records a word reached), :words of the query's words as written; :actors
# and :places the reached records' ids as JSON arrays, :lead_actors and
# :lead_places the same where the whole query is one term (an event they
# took part in then ranks first).
def _named(table: str, detail: str) -> str:
    """Actors or places: the records a word reached first, then those whose
    own words match; `detail` is SQL over the row as t."""
    return f"""
        select t.id, t.name, {detail} as detail, -1000 as rank
        from {table} as t where t.id in (select value from json_each(:{table}))
        union all
        select t.id, t.name, {detail}, f.rank
        from {table}_fts as f join {table} as t on t.rowid = f.rowid
        where {table}_fts match :words and t.id not in (select value from json_each(:{table}))"""


QUERIES = {
    "actor": _named("actors", "replace(t.kind, '_', ' ') || coalesce(' · ' || t.description, '')"),
    "place": _named("places", "replace(t.kind, '_', ' ') || coalesce(' in ' || t.country_code, '')"),
    # An event the reached records took part in or that happened there (or
    # within it) ranks before one that only mentions the words.
    "event": """
        with hits(rowid, rank) as (
          select rowid, rank from events_fts where events_fts match :match
        ),
        involved(id) as (
          select event_id from subject_events
          where (kind = 'actor' and subject_id in (select value from json_each(:lead_actors)))
             or (kind = 'place' and subject_id in (select value from json_each(:lead_places)))
        )
        select e.id, e.title as name, e.date_label || coalesce(' · ' || e.place_name, '') as detail,
               min(coalesce(h.rank, 0) - case when e.id in (select id from involved) then 1000 else 0 end) as rank
        from event_list as e left join hits as h on h.rowid = e.rowid
        where h.rowid is not null or e.id in (select id from involved)
        group by e.id""",
    "document": """
        with hits(rowid, rank) as (
          select rowid, rank from documents_fts where documents_fts match :match
        )
        select d.id, d.title as name, coalesce(d.outlet, '') || coalesce(', ' || d.published_date, '') as detail,
               min(h.rank) as rank
        from hits as h join documents as d on d.rowid = h.rowid group by d.id""",
    # A claim is found by its words, and by its claimant when the query names one.
    "claim": """
        with hits(rowid, rank) as (
          select rowid, rank from claims_fts where claims_fts match :match
          union all select rowid, -1000 from claims where claimant_id in (select value from json_each(:lead_actors))
        )
        select c.id, c.statement as name,
               c.stance || coalesce(' · ' || (select title from events where id = c.event_id), '') as detail,
               min(h.rank) as rank
        from hits as h join claims as c on c.rowid = h.rowid group by c.id""",
}
TABLES = {"actor": "actors", "place": "places", "event": "events", "document": "documents", "claim": "claims"}


def _written(text: str) -> tuple[str, ...]:
    """A text's words as written, only case and diacritics set aside."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return tuple(re.findall(r"\w+", "".join(c for c in folded if not unicodedata.combining(c))))


def writes(entry: Entry, text: str) -> bool:
    """Whether one of the record's names holds the text's words, in order, as written."""
    wanted = _written(text)
    for name in entry.names():
        words = _written(name)
        if any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)):
            return True
    return False


def reach(found: Matcher, text: str) -> list[Candidate]:
    """The records the text names. A spelling some record writes is taken as
    written: "Assad" is the former president and the government named after
    him, not the minister Asaad whom the matching key reads alike (doubled
    letters fall away). Only a spelling no record writes ("Sheibani") is
    reached through the key's tolerance."""
    candidates = found.find(text, limit=10, threshold=REACH)
    candidates = [c for c in candidates if writes(c.entry, text)] or candidates
    return [c for c in candidates if c.score >= candidates[0].score - MARGIN]


def terms(found: Matcher, q: str) -> list[tuple[str, list[Candidate]]]:
    """The query's terms, each with the records it reaches. A query that
    names a record as a whole ("Asaad al-Shaibani", "Minister Sheibani") is
    one term; otherwise each word is one ("Sheibani Paris": the minister, and
    the city), leaving out articles and words of office, which name nothing."""
    whole = reach(found, q)
    words = [w for w in q.split() if w.casefold().strip("-") not in ARTICLES | TITLE_WORDS]
    if (whole and whole[0].score >= WHOLE) or len(words) < 2:
        return [(q, whole)]
    return [(w, reach(found, w)) for w in words]


def ids(reached: list[Candidate], kind: str) -> str:
    return json.dumps(sorted({c.entry.id for c in reached if c.entry.kind == kind}))


async def results(datasette: Any, found: list[tuple[str, list[Candidate]]], q: str) -> list[dict]:
    """The groups of results, in KINDS order, each ranked, empty ones left out."""
    db = datasette.get_database(DATABASE)
    reached = [c for _, term in found for c in term]
    lead = reached if len(found) == 1 else []
    params = {
        # Every term must match, each by any of its spellings. An FTS query
        # cannot be empty: a phrase no index holds stands for none.
        "match": " AND ".join(f"({fts_query([w, *(n for c in t for n in c.entry.names())])})" for w, t in found)
        or '"\x01"',
        "words": words_query(q) or '"\x01"',
        "actors": ids(reached, "actor"),
        "places": ids(reached, "place"),
        "lead_actors": ids(lead, "actor"),
        "lead_places": ids(lead, "place"),
    }
    groups = []
    for kind, heading in KINDS:
        rows = (await db.execute(f"select * from ({QUERIES[kind]}) order by rank, name", params)).rows
        if rows:
            groups.append(
                {
                    "kind": kind,
                    "heading": heading,
                    "count": len(rows),
                    "rows": [
                        {
                            "name": r["name"],
                            "detail": r["detail"],
                            "url": datasette.urls.row(DATABASE, TABLES[kind], r["id"]),
                        }
                        for r in rows[:PER_KIND]
                    ],
                }
            )
    return groups


async def search(datasette: Any, request: Any) -> Response:
    await datasette.ensure_permissions(request.actor, [("view-database", DATABASE), "view-instance"])
    q = " ".join(request.args.get("q", "").split())
    context: dict[str, Any] = {"q": q, "groups": [], "reached": [], "suggestions": [], "database": DATABASE}
    if q:
        found = await matcher(datasette)
        found_terms = terms(found, q)
        context["reached"] = list({c.entry: c for _, t in found_terms for c in t}.values())
        context["groups"] = await results(datasette, found_terms, q)
        if not context["groups"]:
            context["suggestions"] = found.find(q, limit=5, threshold=SUGGEST)
        context["sql_url"] = datasette.urls.query(DATABASE, "search") + "?" + urlencode({"q": q})
    context["total"] = sum(g["count"] for g in context["groups"])
    return Response.html(await datasette.render_template("search.html", context, request=request))


@hookimpl
def register_routes() -> list:
    return [(r"^/-/search$", search)]
