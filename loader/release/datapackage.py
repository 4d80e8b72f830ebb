"""Describe a release for the tools that index and cite data: a Frictionless
Data Package, a CITATION.cff and a README.

The package describes every file with its size and SHA-256, and every CSV
with a table schema (types, primary and foreign keys, from the database
itself) whose descriptions are metadata.yml's, the one place that says what
each table and column means, so a reader of the CSV files alone knows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..citation import AUTHOR
from ..files import sha256_file
from .exports import ExportedTable

# Frictionless field types for SQLite's STRICT types.
FIELD_TYPES = {"INTEGER": "integer", "REAL": "number", "TEXT": "string", "BLOB": "string", "ANY": "any"}
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".geojson": "application/geo+json",
    ".db": "application/vnd.sqlite3",
    ".md": "text/markdown",
    ".cff": "application/x-yaml",
    ".json": "application/json",
    ".sql": "application/sql",
}
FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".geojson": "geojson",
    ".db": "sqlite",
    ".md": "markdown",
    ".cff": "cff",
    ".json": "json",
    ".sql": "sql",
}


@dataclass(frozen=True)
class Licence:
    name: str  # an SPDX id, as Frictionless asks
    title: str
    path: str


def _file_resource(directory: Path, path: Path, name: str) -> dict[str, Any]:
    # "file" keeps Frictionless from reading the Parquet, SQLite and GeoJSON
    # files as tables; the CSV files of the same tables are the tabular resources.
    return {
        "name": name,
        "type": "file",
        "path": path.relative_to(directory).as_posix(),
        "format": FORMATS[path.suffix],
        "mediatype": MEDIA_TYPES[path.suffix],
        "bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
    }


def table_schema(table: ExportedTable, docs: dict[str, str]) -> dict:
    fields = []
    for name, type_ in table.columns:
        field: dict[str, Any] = {"name": name, "type": FIELD_TYPES.get(type_, "string")}
        if name in docs:
            field["description"] = docs[name]
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = table.primary_key
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [column], "reference": {"resource": "" if target == table.name else target, "fields": [key]}}
            for column, target, key in table.foreign_keys
        ]
    return schema


def data_package(
    directory: Path,
    name: str,
    title: str,
    version: str,
    released: str,
    licence: Licence,
    tables: list[tuple[ExportedTable, Path, Path]],
    other_files: list[Path],
    described: dict[str, Any],
    sources: list[dict[str, str]],
    homepage: str | None = None,
) -> dict[str, Any]:
    """datapackage.json: tables is each table with its CSV and Parquet files;
    described is metadata.yml's tables (description, columns); homepage the
    site's permalink base."""
    resources = []
    for table, csv_path, parquet_path in tables:
        resource = _file_resource(directory, csv_path, table.name)
        resource.update(
            {"type": "table", "profile": "tabular-data-resource", "encoding": "utf-8"},
        )
        meta = described.get(table.name) or {}
        if meta.get("description"):
            resource["description"] = " ".join(str(meta["description"]).split())
        resource["schema"] = table_schema(table, meta.get("columns") or {})
        resources.append(resource)
        parquet = _file_resource(directory, parquet_path, f"{table.name}-parquet")
        parquet["description"] = f"The {table.name} table as Parquet, with the same columns and types as the CSV."
        resources.append(parquet)
    resources += [
        _file_resource(directory, path, re.sub(r"[^a-z0-9]+", "-", path.relative_to(directory).as_posix().lower()))
        for path in other_files
    ]
    package: dict[str, Any] = {
        "profile": "data-package",
        "name": name,
        "title": title,
        "version": version,
        "created": f"{released}T00:00:00Z",
        "licenses": [{"name": licence.name, "title": licence.title, "path": licence.path}],
        "sources": sources,
        "resources": resources,
    }
    if homepage:
        package["homepage"] = homepage + "/"
    return package


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def citation_cff(
    title: str,
    version: str,
    released: str,
    licence: Licence,
    commit: str | None,
    abstract: str,
    url: str | None = None,
) -> str:
    """CITATION.cff (Citation File Format 1.2.0), which GitHub, Zenodo and
    reference managers read. Written by hand: it is a dozen lines of YAML
    whose every value is quoted here. The author is the one the site's BibTeX
    names (loader/citation.py), and url the site's permalink base, so that a
    reader holding only the citation can find the data."""
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite it as below, with its version."',
        "type: dataset",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f'version: "{version}"',
        f'date-released: "{released}"',
        f'license: "{licence.name}"',
        f"abstract: {json.dumps(abstract, ensure_ascii=False)}",
        "authors:",
        f"  - name: {json.dumps(AUTHOR, ensure_ascii=False)}",
    ]
    if url:
        lines.append(f"url: {json.dumps(url + '/', ensure_ascii=False)}")
    if commit:
        lines.append(f'commit: "{commit}"')
    return "\n".join(lines) + "\n"


def release_readme(
    title: str, version: str, released: str, licence: Licence, files: list[str], url: str | None = None
) -> str:
    listing = "\n".join(f"- `{path}`" for path in files)
    online = f"\n> Online at <{url}/>." if url else ""
    return f"""# {title}, release {version}

Released {released}. Version {version} is date-based (YYYY.MM.DD, the date of
the newest commit to the sources it was built from; a second release from
newer sources on the same day is YYYY.MM.DD.2, and so on).

## How to cite

> {AUTHOR}. *{title}*, version {version} (released {released}).
> Dataset. Licence: {licence.title}.{online}

`CITATION.cff` holds the same in the Citation File Format. Cite the version:
every record id it contains stays valid in later releases, or is listed in a
later release's `CHANGES.md` as withdrawn, with the id that replaced it.

## What is here

- `events.db`: the SQLite database (open it with `sqlite3` or `datasette`);
- `csv/`: one CSV file per table, UTF-8 with a header row;
- `parquet/`: one Parquet file per table, with SQLite's column types;
- `partitioned/`: the events, their actors and their documents as Parquet partitioned by the
  event's year in the Hive layout (`partitioned/events/year=2025/part-0.parquet`), and the places
  (`partitioned/places/part-0.parquet`); events and places carry their point as GeoParquet
  geometry (WKB). DuckDB, Spark and BigQuery read each folder as one table, with `year` as a column;
- `events.geojson`, `places.geojson`: events and places with coordinates;
- `load-duckdb.sql`: loads the Parquet files into DuckDB (`duckdb events.duckdb < load-duckdb.sql`);
- `datapackage.json`: a Frictionless Data Package describing every file and table;
- `CHANGES.md`, `changes.json`: what was added, changed and withdrawn since the previous release;
- `SHA256SUMS`: check the files with `sha256sum -c SHA256SUMS`.

Licence: {licence.title} ({licence.path}).

## Files

{listing}
"""
