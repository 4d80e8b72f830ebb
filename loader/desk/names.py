"""The matching key: one place that says when two spellings may be one name.

Names in these reports reach the desk in many spellings: transliterations of
Arabic and Hebrew (al-Shaibani, Shaybani, al-Chaibani; Netanyahu,
Nethanyahu), the original scripts (الشرع, ברק), and other word orders. A
name is reduced to two keys:

- `text`: its Latin spelling with the differences that carry no meaning
  taken out (case, diacritics, apostrophes and hyphens, the Arabic article,
  doubled letters, and spellings of one sound such as q/k, ph/f, sch/sh);
- `skeletons`: its consonants alone, in classes of sounds that the
  transliterations of one Arabic or Hebrew letter share. Arabic and Hebrew
  script write few vowels, so a consonant skeleton is what a name in those
  scripts and its Latin spellings have in common; it is computed from
  each script's letters directly, with tables below, not through a
  romaniser. "ch" is French sh (Chaibani) or Hebrew kh/h (Yechiel, Tzachi),
  so a name with "ch" has one skeleton for each reading.

`similarity` compares two keys; `Matcher` ranks records by it. The rules are
here and nowhere else, and tests/test_desk_names.py holds the name pairs
they must join and keep apart.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from unidecode import unidecode

from ..records.languages import NAME_LANG, alias_languages, alias_texts, language_name

# --- Latin text key -------------------------------------------------------

# The Arabic definite article as transliterated (al-Sharaa, el-Chaibani,
# as-Suwayda, ad-Dawla, ash-Sham ...), dropped when another word follows.
ARTICLES = frozenset(
    {"al", "el", "il", "ul", "as", "es", "ad", "ed", "an", "ar", "at", "az", "ash", "ath", "adh", "ez"}
)
# English words that only frame a name ("The Cradle").
FRAME_WORDS = frozenset({"the"})
# Words of office and rank written before a name ("Foreign Minister Asaad
# al-Shaibani", "Sheikh Mowafaq Tarif"): a query's words of this kind count
# where a name has them and are passed over where it does not.
TITLE_WORDS = frozenset(
    """president prime minister foreign defense defence strategic affairs interior sheikh shaikh shaykh
    king emir prince general gen maj major lt colonel col brig envoy special ambassador mr mrs ms dr
    senior chief leader spokesman spokesperson commander head deputy secretary""".split()
)
# Marks that transliterations write for a glottal stop or the letter ayin,
# or leave out: As'ad = Asad, al-Shara'a = al-Sharaa.
GLOTTAL = re.compile("['’‘`´ʿʾʼ]")
NON_WORD = re.compile(r"[^a-z0-9]+")
# Letters unidecode spells with a sign rather than a letter: the schwa of
# Azerbaijani (Azərbaycan) would become "@" and split the word.
LETTERS = str.maketrans({"ə": "e"})
# One sound, several spellings, in the order they are applied.
SPELLINGS: tuple[tuple[str, str], ...] = (
    ("dsch", "j"),  # German transliteration of j: Aserbaidschan, Dschenin
    ("sch", "sh"),  # German transliteration: Schaibani
    ("ck", "k"),  # Barrack = Barak
    ("ph", "f"),
    ("q", "k"),  # Mowafaq = Mowafak, Qatar = Katar
    ("kh", "k"),  # Khattabi = Kattabi (Hebrew/Arabic kh)
    ("gh", "g"),
    ("dh", "d"),  # Abu Dhabi
    ("th", "t"),  # Nethanyahu = Netanyahu
    ("dj", "j"),
    ("tz", "ts"),  # Hebrew tsade: Tzachi = Tsachi
    ("ou", "u"),  # French: Soueida = Sueida
    ("oo", "u"),
    ("ee", "i"),
    ("ay", "ai"),  # Shaybani = Shaibani
    ("ey", "ei"),
    ("aa", "a"),  # long vowels written double: Sharaa = Shara
)
DOUBLED = re.compile(r"([a-z])\1+")


def _latin_words(name: str) -> list[str]:
    """Lowercase ASCII words of a Latin-script name, apostrophes closed up."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(LETTERS)
    text = unidecode(GLOTTAL.sub("", text)).lower()
    return [w for w in NON_WORD.split(text) if w]


def _spell(word: str) -> str:
    for old, new in SPELLINGS:
        word = word.replace(old, new)
    return DOUBLED.sub(r"\1", word)


SPELLED_TITLES = frozenset(_spell(w) for w in TITLE_WORDS)


def _drop_articles(words: list[str]) -> list[str]:
    kept = [w for i, w in enumerate(words) if not (w in ARTICLES and i + 1 < len(words))]
    while len(kept) > 1 and kept[0] in FRAME_WORDS:
        kept = kept[1:]
    # "Alsharaa" written as one word: only a long enough rest is a name.
    return kept


# --- Consonant skeletons -------------------------------------------------------
# Classes: b (b p v), t, j, h, k (k q c kh), d (d dh), r, z, s (s ts), S (sh),
# f, g, l, m, n. Vowels and the half-vowels y and w are dropped: Arabic and
# Hebrew script write them as letters only sometimes (Suwayda = Sweida).

LATIN_CONSONANTS = {
    "b": "b", "p": "f", "v": "b", "f": "f", "t": "t", "d": "d", "j": "j", "g": "g",
    "k": "k", "c": "k", "x": "ks", "h": "h", "r": "r", "z": "z", "s": "s",
    "l": "l", "m": "m", "n": "n",
}  # fmt: skip
# "ch" read three ways; "sh" always as one sound.
CH_READINGS = ("S", "k", "h")

ARABIC_CONSONANTS = {
    "ب": "b", "پ": "f", "ت": "t", "ث": "t", "ط": "t", "ج": "j", "چ": "S", "ژ": "j",
    "ح": "h", "ه": "h", "خ": "k", "ق": "k", "ك": "k", "ک": "k", "گ": "g", "غ": "g",
    "د": "d", "ذ": "d", "ض": "d", "ظ": "d", "ر": "r", "ز": "z", "س": "s", "ص": "s",
    "ش": "S", "ف": "f", "ل": "l", "م": "m", "ن": "n",
}  # fmt: skip
# Alif, hamza forms, ayin, ya, waw, alif maqsura and ta marbuta carry no
# consonant of the skeleton.
ARABIC_ARTICLE = re.compile(r"^(?:[وبفلك]?ال)(?=\w{2,})")

HEBREW_CONSONANTS = {
    "ב": "b", "ג": "g", "ד": "d", "ה": "h", "ז": "z", "ח": "h", "ט": "t", "כ": "k",
    "ך": "k", "ל": "l", "מ": "m", "ם": "m", "נ": "n", "ן": "n", "ס": "s", "פ": "f",
    "ף": "f", "צ": "s", "ץ": "s", "ק": "k", "ר": "r", "ש": "S", "ת": "t",
}  # fmt: skip
# A geresh makes another sound of a letter: ג' = j, ז' = zh, צ' = ch.
HEBREW_GERESH = {"ג": "j", "ז": "j", "צ": "S"}
GERESH = "'׳’"


def script_of(name: str) -> str:
    """'arabic', 'hebrew', 'latin', or 'other' (Cyrillic, Devanagari ...: read
    through unidecode like Latin, but kept out of the GeoNames index)."""
    other = False
    for char in name:
        if "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f" or "\ufb50" <= char <= "\ufdff":
            return "arabic"
        if "\u0590" <= char <= "\u05ff":
            return "hebrew"
        if char > "\u024f" and char.isalpha() and not ("\u1e00" <= char <= "\u1eff"):
            other = True
    return "other" if other else "latin"


def _latin_skeletons(word: str) -> list[str]:
    """Every skeleton of one spelled Latin word ("ch" gives one per reading)."""
    parts = re.split(r"(sh|ch|ts)", word)
    choices: list[list[str]] = []
    for part in parts:
        if part == "sh":
            choices.append(["S"])
        elif part == "ch":
            choices.append(list(CH_READINGS))
        elif part == "ts":
            choices.append(["s"])
        else:
            choices.append(["".join(LATIN_CONSONANTS.get(c, "") for c in part)])
    return ["".join(combo) for combo in itertools.product(*choices)]


def _arabic_skeleton(word: str) -> str:
    word = ARABIC_ARTICLE.sub("", word)
    if len(word) > 2 and word.endswith("ه"):
        word = word[:-1]  # a final heh is often a ta marbuta written plain (القاعده)
    return "".join(ARABIC_CONSONANTS.get(c, "") for c in word)


# Letters Arabic writing uses interchangeably: hamza seats, ta marbuta/heh, alif maqsura/ya.
ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": None})


def _hebrew_skeleton(word: str) -> str:
    out = []
    for i, char in enumerate(word):
        if char in GERESH:
            continue
        if i + 1 < len(word) and word[i + 1] in GERESH and char in HEBREW_GERESH:
            out.append(HEBREW_GERESH[char])
        elif char == "ה" and i == len(word) - 1 and i > 0:
            continue  # a final he writes a vowel
        else:
            out.append(HEBREW_CONSONANTS.get(char, ""))
    # "א-סווידא": a prefix cut off by a hyphen is the article.
    return "".join(out)


def _collapse(skeleton: str) -> str:
    return DOUBLED.sub(r"\1", skeleton.replace("SS", "S"))


@dataclass(frozen=True)
class Key:
    """A name reduced for comparison; see the module's docstring."""

    name: str
    script: str
    words: tuple[str, ...]  # the text key's words (Latin), empty for other scripts
    skeletons: tuple[tuple[str, ...], ...]  # each reading: one skeleton per word
    native: str = ""  # Arabic or Hebrew: the name without marks, articles kept

    @property
    def text(self) -> str:
        return " ".join(self.words)


@lru_cache(maxsize=200_000)
def key(name: str) -> Key:
    """The matching key of a name in any script."""
    script = script_of(name)
    if script in ("latin", "other"):
        script = "latin"
        words = tuple(_spell(w) for w in _drop_articles(_latin_words(name)))
        readings = [_latin_skeletons(w) for w in words]
        skeletons = tuple(
            tuple(_collapse(s) for s in combo) for combo in itertools.islice(itertools.product(*readings), 9)
        )
        return Key(name, script, words, skeletons)
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")  # harakat, niqqud, shadda
    raw = [w for w in re.split(r"[\s\-־.,;:()\"/]+", text) if w]
    if script == "hebrew":
        # A one-letter word before a hyphen (א-סווידא) is the article.
        raw = [w for i, w in enumerate(raw) if not (len(w) == 1 and i + 1 < len(raw))]
        skeleton = tuple(_collapse(_hebrew_skeleton(w)) for w in raw)
    else:
        skeleton = tuple(_collapse(_arabic_skeleton(w)) for w in raw)
    return Key(name, script, (), (tuple(s for s in skeleton if s),), " ".join(raw).translate(ARABIC_FOLD))


# --- Similarity ------------------------------------------------------------------


def _word_score(a: str, b: str, short: int) -> float:
    """Similarity of two words; words of `short` characters or fewer must be equal,
    because one letter in three is no small difference."""
    if a == b:
        return 100.0
    if min(len(a), len(b)) <= short:
        return 0.0
    return fuzz.ratio(a, b)


def _aligned(query: Sequence[str], name: Sequence[str], short: int) -> float:
    """How well the query's words are found among the name's, in any order.

    Each query word takes its best word of the name (weighted by length); a
    name with words the query lacks loses a little for each, so "Assad"
    ranks Bashar al-Assad above the Assad government only by its other
    aliases, never by accident of length."""
    if not query or not name:
        return 0.0
    total = weight = 0.0
    counted = 0
    for word in query:
        best = max(_word_score(word, other, short) for other in name)
        if best < 80 and _spell(word) in SPELLED_TITLES and len(query) > 1:
            continue
        total += best * len(word)
        weight += len(word)
        counted += 1
    if not weight:
        return 0.0
    extra = max(0, len(name) - counted)
    missing = max(0, counted - len(name))
    return total / weight * (1 - 0.04 * min(extra, 4)) * (1 - 0.15 * min(missing, 3))


SKELETON_LEAD = 25.0


def _skeleton_weight(query: Key, name: Key, skeleton: Sequence[str]) -> float:
    """A skeleton says less than a spelling, and a short one very little:
    "sd" is Assad and Suwayda alike. So a skeleton's score counts below the
    text key's, the less the fewer consonants it has."""
    consonants = sum(len(s) for s in skeleton)
    weight = 0.97 if query.script == name.script == "latin" else 0.95
    if consonants <= 2:
        weight *= 0.88
    elif consonants == 3:
        weight *= 0.97
    return weight


def similarity(query: Key, name: Key) -> float:
    """0-100: how likely the two keys spell one name.

    Two Latin names compare by their text keys, as whole strings and word by
    word in any order; a name in Arabic or Hebrew script compares with
    anything by consonant skeletons alone (see _skeleton_weight)."""
    if query.native and query.native == name.native:
        return 100.0
    text = 0.0
    latin = bool(query.words and name.words)
    if latin:
        if query.words == name.words:
            return 100.0
        text = max(
            fuzz.token_sort_ratio(query.text, name.text) * (1.0 if len(query.words) == len(name.words) else 0.9),
            _aligned(query.words, name.words, short=2),
        )
    skeleton = 0.0
    for q in query.skeletons:
        for n in name.skeletons:
            factor = _skeleton_weight(query, name, q)
            skeleton = max(skeleton, (100.0 if q == n and q else _aligned(q, n, short=2)) * factor)
    if latin:
        # Between two Latin spellings the skeleton only confirms what the
        # letters half show (Damaskus, Damascus): Quneitra is not "country".
        skeleton = min(skeleton, text + SKELETON_LEAD)
    return max(text, skeleton)


# --- The matcher -------------------------------------------------------------------

# Below this similarity two names are not offered as one: one letter in four
# differing (Golan, Gofman) is another name.
DEFAULT_THRESHOLD = 75.0
# Which record of one name ranks first on a tie (see Matcher.find).
KIND_ORDER = {"place": 0, "actor": 1, "geonames": 2}


@dataclass(frozen=True)
class Entry:
    """A record that names can mean: an actor, a place, or a GeoNames city."""

    kind: str  # actor | place | geonames
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    detail: str = ""  # shown beside it: a description, a city's point
    country: str = ""  # ISO 3166-1 alpha-2, where known
    # Each name's BCP 47 tag where the store gives one (its record_names), so
    # that a match says in which language the name it matched is.
    languages: tuple[tuple[str, str], ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float
    matched: str  # the name or alias that matched best

    @property
    def exact(self) -> bool:
        return self.score >= 99.99

    @property
    def language(self) -> str:
        """The matched name's language in words ("Arabic, in Latin letters"), or "" where none is given."""
        tag = dict(self.entry.languages).get(self.matched)
        return language_name(tag) if tag else ""


@dataclass
class Matcher:
    """Ranks records by how well one of their names matches a query.

    A first pass uses rapidfuzz over every name's text key and skeleton to
    keep a short list, so a matcher over a large import stays quick; the
    short list is then scored with `similarity`."""

    entries: list[Entry]
    _names: list[tuple[int, str, Key]] = field(init=False, repr=False)
    _texts: list[str] = field(init=False, repr=False)
    _skels: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._names = [(i, n, key(n)) for i, e in enumerate(self.entries) for n in e.names() if n and n.strip()]
        self._texts = [k.text for _, _, k in self._names]
        self._skels = [" ".join(k.skeletons[0]) if k.skeletons else "" for _, _, k in self._names]

    def _shortlist(self, query: Key, size: int) -> set[int]:
        rows: set[int] = set()
        if query.text:
            for _, _, row in process.extract(query.text, self._texts, scorer=fuzz.token_set_ratio, limit=size):
                rows.add(row)
            for _, _, row in process.extract(query.text, self._texts, scorer=fuzz.partial_ratio, limit=size):
                rows.add(row)
        for skeleton in query.skeletons:
            text = " ".join(skeleton)
            if text:
                for _, _, row in process.extract(text, self._skels, scorer=fuzz.token_set_ratio, limit=size):
                    rows.add(row)
        return rows

    def find(self, query: str, limit: int = 10, threshold: float = DEFAULT_THRESHOLD) -> list[Candidate]:
        """Records one of whose names may be `query`, best first (ties by kind and id)."""
        q = key(query)
        if not q.words and not any(q.skeletons):
            return []
        best: dict[int, Candidate] = {}
        for row in self._shortlist(q, max(50, limit * 5)):
            index, name, k = self._names[row]
            score = similarity(q, k)
            if score >= threshold and (index not in best or score > best[index].score):
                best[index] = Candidate(self.entries[index], round(score, 1), name)
        # On a tie, a record whose own name matched ranks before one that only
        # has it as an alias (Damascus the city before the government also called
        # so); then a place before an actor, because the store names a state
        # after its land (Azerbaijan the country and the state) and a country's
        # name is read as the land first, the state beside it.
        ranked = sorted(
            best.values(),
            key=lambda c: (-c.score, c.matched != c.entry.name, KIND_ORDER.get(c.entry.kind, 9), c.entry.id),
        )
        return ranked[:limit]


def entries_from_records(kind: str, records: Iterable[dict]) -> list[Entry]:
    return [
        Entry(
            kind,
            str(r["id"]),
            str(r["name"]),
            tuple(alias_texts(r.get("aliases"))),
            " ".join(str(r.get("description") or r.get("kind") or "").split()),
            str(r.get("country_code") or ""),
            # The record's own name is its English name.
            tuple({str(r["name"]): NAME_LANG, **alias_languages(r.get("aliases"))}.items()),
        )
        for r in records
        if r.get("id") and r.get("name")
    ]
