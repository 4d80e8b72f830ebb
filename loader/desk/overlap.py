"""`overlap`: every run of ten or more words a tracked file shares with an
archived article.

Facts carry over from the articles, sentences do not: only a document's
title may be kept word for word, as a citation. The check compares each
tracked (or new, not ignored) file's words with every archived article's
(seeds and archive alike, every *.txt in the archive's folders), across
line breaks, since YAML folds prose over several lines; a run is reported
once, at the line where it starts, with the article and paragraph it
repeats. Web addresses are not words here, and a run that lies within a
document's title is a citation, not a copy.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..records.archive import paragraphs
from . import DeskError
from .records import from_directory

RUN = 10  # words
WORD = re.compile(r"[\w’']+", re.UNICODE)
URL = re.compile(r"\S+://\S+|\bwww\.\S+")
MAX_FILE = 2_000_000  # bytes: a larger tracked file is data, not prose


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(URL.sub(" ", text))]


def _located_words(text: str) -> tuple[list[str], list[int]]:
    """The words of a file and the line each is on."""
    found: list[str] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for word in words(line):
            found.append(word)
            lines.append(number)
    return found, lines


@dataclass(frozen=True)
class Hit:
    file: str
    line: int
    article: str
    paragraph: int
    length: int  # words in the shared run
    start: str  # its first words, for the curator to find it

    def __str__(self) -> str:
        return f'{self.file}:{self.line}: repeats {self.article} ¶ {self.paragraph} ({self.length} words): "{self.start} …"'


class Shingles:
    """Every run of RUN words of the archived articles, with where it is."""

    def __init__(self, articles: Iterable[Path]):
        self.runs: dict[tuple[str, ...], tuple[str, int]] = {}
        self.count = 0
        for path in sorted(articles, key=lambda p: p.name):
            self.count += 1
            text = path.read_text(encoding="utf-8", errors="replace")
            # Runs may cross paragraphs; each is placed at the paragraph it starts in.
            article_words: list[str] = []
            where: list[int] = []
            for number, paragraph in enumerate(paragraphs(text), start=1):
                for word in words(paragraph):
                    article_words.append(word)
                    where.append(number)
            for i in range(len(article_words) - RUN + 1):
                self.runs.setdefault(tuple(article_words[i : i + RUN]), (path.name, where[i]))


def archived_articles(folders: Sequence[Path]) -> list[Path]:
    articles = [p for folder in folders for p in sorted(folder.glob("*.txt")) if p.is_file()]
    if not articles:
        raise DeskError(f"no archived article (*.txt) in {', '.join(str(f) for f in folders) or 'no folder'}")
    return articles


def tracked_files(root: Path) -> list[str]:
    result = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    return sorted(set(result.stdout.splitlines()))


def changed_lines(root: Path, revision: str = "HEAD") -> dict[str, set[int] | None]:
    """Lines added since `revision` by file; None for a whole new file."""
    out = subprocess.run(
        ["git", "-C", str(root), "diff", "-U0", "--no-color", revision, "--"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    changed: dict[str, set[int] | None] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
            if current is not None:
                changed.setdefault(current, set())
        elif line.startswith("@@") and current is not None:
            match = re.search(r"\+(\d+)(?:,(\d+))?", line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                lines = changed[current]
                if lines is not None:
                    lines.update(range(start, start + count))
    untracked = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for name in untracked.splitlines():
        changed[name] = None
    return changed


def titles(sources: Path) -> list[list[str]]:
    """The words of every document's title: the one text that may be copied."""
    if not sources.is_dir():
        return []
    return [words(str(d.get("title") or "")) for d in from_directory(sources).tables["documents"].values()]


def _in_title(run: Sequence[str], title_words: list[list[str]]) -> bool:
    n = len(run)
    return any(tuple(t[i : i + n]) == tuple(run) for t in title_words for i in range(len(t) - n + 1))


def file_hits(name: str, text: str, shingles: Shingles, title_words: list[list[str]]) -> list[Hit]:
    found, lines = _located_words(text)
    hits: list[Hit] = []
    i = 0
    while i <= len(found) - RUN:
        match = shingles.runs.get(tuple(found[i : i + RUN]))
        if not match:
            i += 1
            continue
        end = i + RUN  # extend the run as long as it is shared
        while end < len(found) and tuple(found[end - RUN + 1 : end + 1]) in shingles.runs:
            end += 1
        if not _in_title(found[i:end], title_words):
            hits.append(Hit(name, lines[i], match[0], match[1], end - i, " ".join(found[i : i + RUN])))
        i = end
    return hits


def overlap(
    root: Path, folders: Sequence[Path], sources: Path | None = None, new_since: str | None = None
) -> tuple[list[Hit], int, int]:
    """Every run shared with an archived article, in the project's files at
    `root`; with `new_since`, only runs starting on lines added since that
    commit (or in new files). Returns the hits, the files read and the
    articles compared."""
    shingles = Shingles(archived_articles(folders))
    title_words = titles(sources if sources is not None else root / "sources")
    only = changed_lines(root, new_since) if new_since else None
    hits: list[Hit] = []
    read = 0
    for name in tracked_files(root):
        if only is not None and name not in only:
            continue
        path = root / name
        if not path.is_file() or path.stat().st_size > MAX_FILE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        read += 1
        for hit in file_hits(name, text, shingles, title_words):
            lines = only.get(name) if only is not None else None
            if only is None or lines is None or hit.line in lines:
                hits.append(hit)
    return hits, read, shingles.count
