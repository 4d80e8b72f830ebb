"""`archive`: file a new article into the local archive and start its document record.

The archive is a folder outside git (a newsroom's own, or the project's
../shared/archive); an article is filed under its content hash, as
NNN_HASH16.txt after the folder's highest number, so that filing the same
text twice finds the first copy instead of making a second. The folder's
MANIFEST.tsv gets a row: the file, its SHA-256, its address, its outlet,
its printed date and the day it was captured. Then the document's record is
appended to sources/documents.yml as a skeleton for the curator to finish:
the printed date with the paragraph that prints it, or, where none is
printed, a window from the first day of the latest date the text names to
the capture day, with the reasoning left for the curator to write.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..records.archive import locator_hash, paragraphs
from . import DeskError
from .dates import Window, expressions, printed_date

MANIFEST = "MANIFEST.tsv"
COLUMNS = ["file", "sha256", "url", "retrieved", "outlet", "printed"]
FILED = re.compile(r"^(\d+)_([0-9a-f]{16})\.txt$")


@dataclass
class Filed:
    path: Path
    sha256: str
    new: bool  # False when the same text was already filed
    document_id: str
    record: str  # the YAML appended to documents.yml ("" when not written)


def _manifest_rows(folder: Path) -> tuple[list[str], list[list[str]]]:
    path = folder / MANIFEST
    if not path.is_file():
        return COLUMNS[:], []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = lines[0].split("\t") if lines else COLUMNS[:]
    return header, [line.split("\t") for line in lines[1:]]


def _write_manifest(folder: Path, header: list[str], rows: list[list[str]]) -> None:
    for column in COLUMNS:  # an older manifest gains the columns it lacks
        if column not in header:
            header.append(column)
    body = ["\t".join(header)] + ["\t".join(row + [""] * (len(header) - len(row))) for row in rows]
    (folder / MANIFEST).write_text("\n".join(body) + "\n", encoding="utf-8")


def slug(text: str, words: int = 6) -> str:
    kept = re.findall(r"[a-z0-9]+", text.lower())
    stop = {"a", "an", "the", "of", "in", "on", "and", "to", "for", "with", "by", "at"}
    return "-".join([w for w in kept if w not in stop][:words]) or "article"


# "Shafaq News – Baku": an outlet's name and the place it reports from, at the top of a copy.
DATELINE = re.compile(
    r"(?:^|\s)(?P<outlet>[A-Z][\w&'.]*(?: [A-Z][\w&'.]*){0,3}) [–—-] (?P<place>[A-Z][\w'’./ -]{1,40})$"
)
BYLINE = re.compile(r"^[Bb]y (?P<author>[A-Z][\w'’.-]+(?: (?:al-|el-|bin |ibn )?[A-Z][\w'’.-]+){1,3})$")
TOP = 6  # the paragraphs where a headline, a dateline and a byline are looked for


def dateline(paras: list[str]) -> tuple[str, str] | None:
    """The outlet and place of a dateline near the top, if the copy has one."""
    for text in paras[:TOP]:
        match = DATELINE.search(text.strip())
        if match and len(text.split()) <= 12:
            return match.group("outlet"), match.group("place")
    return None


def byline(paras: list[str]) -> str | None:
    """The author a byline near the top names ("By Yousef Bardouka")."""
    return next((m.group("author") for t in paras[:TOP] if (m := BYLINE.match(t.strip()))), None)


def headline(paras: list[str], outlet: str | None = None) -> str | None:
    """The first paragraph near the top that reads as a headline: not a
    date line, not the outlet's name, not a section label of a few words
    ("Azerbaijan"), not a dateline ("Shafaq News – Baku") nor a byline."""
    for text in paras[:TOP]:
        if outlet and text.strip().lower() == outlet.strip().lower():
            continue
        if len(text.split()) < 4 or DATELINE.search(text.strip()) or BYLINE.match(text.strip()):
            continue
        if len(text.split()) <= 16 and not re.search(r"\d{4}", text) and not text.isupper():
            return text
    return None


def skeleton(
    name: str, sha256: str, text: str, url: str | None, outlet: str | None, retrieved: date
) -> tuple[str, str]:
    """The document record as YAML for documents.yml, and its id."""
    paras = paragraphs(text)
    printed = printed_date(paras)
    found = dateline(paras)
    outlet = outlet or (found[0] if found else None)
    title = headline(paras, outlet)
    lines: list[str] = []
    if printed:
        day, number = printed
        stamp = day.isoformat()
        date_lines = [
            f"    published_date: {stamp}",
            "    date_basis: printed",
            f'    date_paragraphs: ["{number}:{locator_hash(paras[number - 1])}"]',
        ]
    else:
        # A month or a year the text names may be the article's own: the
        # window starts on its first day ("December 2024" gives 1 December).
        # A date it speaks of as to come (a preview's round) sets no bound.
        named = [
            e for e in expressions(paras, None) if e.resolved and e.resolved.latest <= retrieved and e.tense != "future"
        ]
        earliest = max((e.resolved.earliest for e in named if e.resolved), default=None)
        evidence = sorted({e.paragraph for e in named if e.resolved and e.resolved.earliest == earliest})
        stamp = (earliest or retrieved).strftime("%Y-%m")
        date_lines = [
            "    published_date: null",
            f"    published_earliest: {earliest.isoformat() if earliest else 'null'}",
            f"    published_latest: {retrieved.isoformat()}",
            "    date_basis: inferred",
            "    date_inference: >-",
            "      TO WRITE: the article prints no date. The window runs from the first day",
            "      of the latest date its text names (see date_paragraphs) to the day it was captured;",
            "      narrow it with the text's own clues and say how.",
            "    date_paragraphs: [" + ", ".join(f'"{n}:{locator_hash(paras[n - 1])}"' for n in evidence) + "]",
        ]
    prefix = slug(outlet, 2) if outlet else "unattributed"
    document_id = f"{prefix}-{stamp}-{slug(title or name)}"
    quoted_title = (title or "[No headline in the archived copy: TO WRITE]").replace('"', '\\"')
    lines = [
        f"  - id: {document_id}",
        f'    title: "{quoted_title}"',
        f"    outlet: {_scalar(outlet)}",
        f"    author: {_scalar(byline(paras))}",
        *date_lines,
        f"    dateline: {_scalar(found[1] if found else None)}",
        f"    url: {_scalar(url)}",
        f"    archive_ref: {name}",
        f"    archive_sha256: {sha256}",
        "    language: en",
        "    notes: >-",
        f"      TO WRITE: what the archived copy shows of its outlet and date. Captured {retrieved.isoformat()}.",
    ]
    return "\n".join(lines) + "\n", document_id


def _scalar(value: str | None) -> str:
    return "null" if not value else '"' + value.replace('"', '\\"') + '"'


def archive(
    data: bytes,
    folder: Path,
    sources: Path | None,
    url: str | None = None,
    outlet: str | None = None,
    retrieved: date | None = None,
) -> Filed:
    """File `data` in `folder` and, when `sources` is given, append its document skeleton."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DeskError(f"the article is not UTF-8 text ({error.reason}); convert it first") from None
    if not paragraphs(text):
        raise DeskError("the article is empty")
    if not folder.is_dir():
        raise DeskError(f"{folder}: no such archive folder")
    retrieved = retrieved or date.today()
    sha256 = hashlib.sha256(data).hexdigest()
    existing = {m.group(2): p for p in folder.iterdir() if (m := FILED.match(p.name))}
    if sha256[:16] in existing:
        path = existing[sha256[:16]]
        return Filed(path, sha256, False, "", "")
    number = max((int(m.group(1)) for p in folder.iterdir() if (m := FILED.match(p.name))), default=99) + 1
    path = folder / f"{number:03d}_{sha256[:16]}.txt"
    path.write_bytes(data)
    header, rows = _manifest_rows(folder)
    row = dict(zip(COLUMNS, [path.name, sha256, url or "", retrieved.isoformat(), outlet or "", ""], strict=True))
    printed = printed_date(paragraphs(text))
    row["printed"] = printed[0].isoformat() if printed else ""
    rows.append([row.get(column, "") for column in header] + [row[c] for c in COLUMNS if c not in header])
    _write_manifest(folder, header, rows)
    record, document_id = skeleton(path.name, sha256, text, url, outlet, retrieved)
    if sources is not None:
        documents = sources / "documents.yml"
        if not documents.is_file():
            raise DeskError(f"{documents}: no such file")
        current = documents.read_text(encoding="utf-8")
        documents.write_text(current.rstrip("\n") + "\n\n" + record, encoding="utf-8")
    return Filed(path, sha256, True, document_id, record)


__all__ = ["Filed", "Window", "archive", "skeleton"]
