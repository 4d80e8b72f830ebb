"""The About page, /-/about: what the site is, in the few sentences a reader
looks for before trusting it (how many events from how many sources, over
what period, who curates, how sure the records are, what the dataset is not,
and when it was last built), every figure read from the database it serves so
that the page cannot drift from the data.

metadata.yml's `about_url` points the header's "About" link here.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loader import DATABASE_NAME as DATABASE
from loader.citation import AUTHOR

# Every figure in one query, so a page costs one round trip.
FIGURES = """
select
  (select count(*) from events) as events,
  (select count(*) from documents) as documents,
  (select count(distinct outlet) from documents) as outlets,
  (select count(*) from actors) as actors,
  (select count(*) from places) as places,
  (select count(*) from claims) as claims,
  (select count(*) from disputes) as disputes,
  (select date_label from event_list order by start_date, end_date, id limit 1) as first_label,
  (select date_label from event_list order by end_date desc, start_date desc, id limit 1) as last_label,
  (select count(*) from events where place_id is null) as unplaced,
  (select count(*) from events where date_precision = 'day') as to_the_day
"""
STATUSES = "select status, count(*) as n from events group by status order by n desc"
RELEASE = "select version, sources_date from dataset_release"


async def about_page(datasette: Any, request: Any) -> Response:
    db = datasette.get_database(DATABASE)
    figures = dict((await db.execute(FIGURES)).first())
    statuses = [dict(row) for row in await db.execute(STATUSES)]
    release = (await db.execute(RELEASE)).first()
    html = await datasette.render_template(
        "about.html",
        {
            "figures": figures,
            "statuses": statuses,
            "release": dict(release) if release else {},
            "curators": AUTHOR,
            "metadata": datasette.metadata(),
        },
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/about$", about_page)]
