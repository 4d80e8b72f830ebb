-- The event store's schema: the one place where its tables, constraints,
-- indexes, views and full-text indexes are declared.
--
-- The loader reads this file twice over. The part above the "@after-load"
-- marker creates the tables; the loader also inspects those tables to learn
-- each record's fields, types and references, and tries every record against
-- them, so a CHECK that fails here is what a curator sees as the error.
-- A CHECK's constraint name is therefore written as "<field>: <message>".
-- Every date lies between 1800-01-01 and 2100-12-31: wide enough for any
-- political event a source can report or plan, and narrow enough that date
-- arithmetic never meets the ends of SQLite's or Python's calendars (year 0,
-- year 300's leap day, year 9999), where it goes wrong. Each such CHECK leaves
-- a text that is not a date at all to the CHECK before it, so a mistyped date
-- is told one thing, and tries the cheap range first.
-- The part below the marker (indexes, full-text indexes, views) runs once the
-- rows are in, which is both faster and gives identical files for identical
-- sources.

CREATE TABLE event_types (
    code TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "code: must be a slug of lowercase letters, digits and hyphens"
        CHECK (code <> '' AND code NOT GLOB '*[^a-z0-9-]*' AND code NOT GLOB '-*'),
    label TEXT NOT NULL
        CONSTRAINT "label: must not be blank" CHECK (trim(label, char(32, 9, 10, 13)) <> ''),
    description TEXT NOT NULL
        CONSTRAINT "description: must not be blank" CHECK (trim(description, char(32, 9, 10, 13)) <> ''),
    -- PLOVER's sixteen top-level event categories (as used by POLECAT).
    plover TEXT NOT NULL
        CONSTRAINT "plover: must be one of AGREE, CONSULT, SUPPORT, CONCEDE, COOPERATE, AID, RETREAT, REQUEST, ACCUSE, REJECT, THREATEN, PROTEST, SANCTION, MOBILIZE, COERCE, ASSAULT"
        CHECK (plover IN ('AGREE', 'CONSULT', 'SUPPORT', 'CONCEDE', 'COOPERATE', 'AID',
                          'RETREAT', 'REQUEST', 'ACCUSE', 'REJECT', 'THREATEN', 'PROTEST',
                          'SANCTION', 'MOBILIZE', 'COERCE', 'ASSAULT')),
    -- CAMEO event code (two to four digits, e.g. '036', '1041', '195').
    cameo TEXT NOT NULL
        CONSTRAINT "cameo: must be a CAMEO code of two to four digits, written as text"
        CHECK (length(cameo) BETWEEN 2 AND 4 AND cameo NOT GLOB '*[^0-9]*')
) STRICT;

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    title TEXT NOT NULL
        CONSTRAINT "title: must not be blank" CHECK (trim(title, char(32, 9, 10, 13)) <> ''),
    outlet TEXT,
    author TEXT,
    -- As printed; when the article prints no date, the single most likely day
    -- of the window below, which date_basis marks as inferred.
    published_date TEXT
        CONSTRAINT "published_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (published_date IS date(published_date, '+0 days'))
        CONSTRAINT "published_date: must be between 1800-01-01 and 2100-12-31"
        CHECK (published_date BETWEEN '1800-01-01' AND '2100-12-31'
               OR published_date IS NOT date(published_date, '+0 days')),
    -- Earliest and latest day the article can have appeared, from its own
    -- text. A printed date is its own window; an empty published_latest means
    -- the text sets no later bound.
    published_earliest TEXT
        CONSTRAINT "published_earliest: must be a real calendar date written YYYY-MM-DD"
        CHECK (published_earliest IS date(published_earliest, '+0 days'))
        CONSTRAINT "published_earliest: must be between 1800-01-01 and 2100-12-31"
        CHECK (published_earliest BETWEEN '1800-01-01' AND '2100-12-31'
               OR published_earliest IS NOT date(published_earliest, '+0 days')),
    published_latest TEXT
        CONSTRAINT "published_latest: must be a real calendar date written YYYY-MM-DD"
        CHECK (published_latest IS date(published_latest, '+0 days'))
        CONSTRAINT "published_latest: must be between 1800-01-01 and 2100-12-31"
        CHECK (published_latest BETWEEN '1800-01-01' AND '2100-12-31'
               OR published_latest IS NOT date(published_latest, '+0 days')),
    -- 'printed' (the article shows its date) or 'inferred' (worked out from
    -- its text, as date_inference explains).
    date_basis TEXT NOT NULL DEFAULT 'printed'
        CONSTRAINT "date_basis: must be one of printed, inferred"
        CHECK (date_basis IN ('printed', 'inferred')),
    date_inference TEXT,
    dateline TEXT,
    url TEXT
        CONSTRAINT "url: must start with http:// or https://"
        CHECK (url LIKE 'http://_%' OR url LIKE 'https://_%'),
    archive_ref TEXT UNIQUE,
    -- The SHA-256 of the archived file archive_ref names, as 64 lowercase hex
    -- digits: a re-captured or altered copy no longer matches it.
    archive_sha256 TEXT
        CONSTRAINT "archive_sha256: must be a SHA-256 written as 64 lowercase hex digits"
        CHECK (length(archive_sha256) = 64 AND archive_sha256 NOT GLOB '*[^0-9a-f]*'),
    -- The paragraphs the date basis rests on (the printed date's line, or
    -- the passages date_inference uses), as locators (see event_documents);
    -- empty only when the archived copy has none.
    date_paragraphs TEXT
        CONSTRAINT "date_paragraphs: must be a list of locators written N:HASH, such as 5:3fa2b1c0"
        CHECK (date_paragraphs IS NULL OR json_valid(date_paragraphs) AND json_type(date_paragraphs) = 'array'
               AND json(date_paragraphs) NOT GLOB '*[^]0-9a-f:,"[]*'
               AND length(json(date_paragraphs)) - length(replace(json(date_paragraphs), '"', '')) = 2 * json_array_length(date_paragraphs)
               AND length(json(date_paragraphs)) - length(replace(json(date_paragraphs), ':', '')) = json_array_length(date_paragraphs)
               AND json(date_paragraphs) NOT GLOB '*[^0-9]:*' AND json(date_paragraphs) NOT GLOB '*"0*'),
    language TEXT NOT NULL DEFAULT 'en'
        CONSTRAINT "language: must be an ISO 639-1 code such as en, ar or he"
        CHECK (length(language) = 2 AND language NOT GLOB '*[^a-z]*'),
    notes TEXT,
    CONSTRAINT "date_inference: an inferred date must say how it was inferred from the article's own text"
        CHECK (date_basis <> 'inferred' OR coalesce(trim(date_inference, char(32, 9, 10, 13)), '') <> ''),
    CONSTRAINT "date_inference: only an inferred date has an inference"
        CHECK (date_basis = 'inferred' OR date_inference IS NULL),
    CONSTRAINT "published_earliest: an inferred date needs the earliest day of its window"
        CHECK (date_basis <> 'inferred' OR published_earliest IS NOT NULL),
    CONSTRAINT "published_earliest: a printed date is its own window: leave the window out or make it the printed day"
        CHECK (date_basis <> 'printed'
               OR ((published_earliest IS NULL OR published_earliest IS published_date)
                   AND (published_latest IS NULL OR published_latest IS published_date))),
    CONSTRAINT "published_latest: must not be before published_earliest"
        CHECK (published_latest IS NULL OR published_earliest IS NULL OR published_latest >= published_earliest),
    CONSTRAINT "published_date: an inferred date is given as one day only when its window is that one day"
        CHECK (date_basis <> 'inferred' OR published_date IS NULL
               OR (published_earliest IS published_date AND published_latest IS published_date)),
    CONSTRAINT "published_date: must lie inside the window published_earliest to published_latest"
        CHECK (published_date IS NULL
               OR ((published_earliest IS NULL OR published_date >= published_earliest)
                   AND (published_latest IS NULL OR published_date <= published_latest)))
) STRICT;

CREATE TABLE places (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name, char(32, 9, 10, 13)) <> ''),
    -- Every other spelling, transliteration and script, as a JSON array of strings.
    aliases TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "aliases: must be a list of strings"
        CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
    -- Places that answer to one of this place's names or aliases, or to a
    -- word of one, by the curators' choice (the city and the province it
    -- gives its name to): validate stops warning of the alias clash.
    shares_names_with TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "shares_names_with: must be a list of place ids"
        CHECK (json_valid(shares_names_with) AND json_type(shares_names_with) = 'array'),
    kind TEXT NOT NULL
        CONSTRAINT "kind: must be one of country, region, province, district, city, town, village, zone, site, building, body_of_water"
        CHECK (kind IN ('country', 'region', 'province', 'district', 'city', 'town', 'village',
                        'zone', 'site', 'building', 'body_of_water')),
    country_code TEXT
        CONSTRAINT "country_code: must be an ISO 3166-1 alpha-2 code such as SY or IL"
        CHECK (length(country_code) = 2 AND country_code NOT GLOB '*[^A-Z]*'),
    latitude REAL
        CONSTRAINT "latitude: must be between -90 and 90" CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL
        CONSTRAINT "longitude: must be between -180 and 180" CHECK (longitude BETWEEN -180 AND 180),
    -- How closely the point stands for the place: 'exact' (the site itself),
    -- 'locality' (the GeoNames point of a city or town), 'representative'
    -- (a chosen point inside a region, zone or area), 'country' (a country's centroid).
    geo_precision TEXT
        CONSTRAINT "geo_precision: must be one of exact, locality, representative, country"
        CHECK (geo_precision IN ('exact', 'locality', 'representative', 'country')),
    geonames_id INTEGER
        CONSTRAINT "geonames_id: must be a positive GeoNames id" CHECK (geonames_id > 0),
    parent_id TEXT REFERENCES places(id),
    -- The administrative divisions the place lies in, largest first, as the
    -- origin names them (ACLED's admin1 to admin3).
    admin1 TEXT,
    admin2 TEXT,
    admin3 TEXT,
    notes TEXT,
    CONSTRAINT "longitude: latitude and longitude go together: give both or neither"
        CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CONSTRAINT "geo_precision: is required when the place has coordinates"
        CHECK (latitude IS NULL OR geo_precision IS NOT NULL),
    CONSTRAINT "parent_id: a place cannot be its own parent" CHECK (parent_id IS NOT id)
) STRICT;

CREATE TABLE actors (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name, char(32, 9, 10, 13)) <> ''),
    aliases TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "aliases: must be a list of strings"
        CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
    -- Actors that answer to one of this actor's names or aliases, or to a
    -- word of one, by the curators' choice (Assad and the Assad government):
    -- validate stops warning of the alias clash.
    shares_names_with TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "shares_names_with: must be a list of actor ids"
        CHECK (json_valid(shares_names_with) AND json_type(shares_names_with) = 'array'),
    kind TEXT NOT NULL
        CONSTRAINT "kind: must be one of person, state, government, government_body, military, political_party, international_organization, organization, armed_group, media_outlet, community, delegation"
        CHECK (kind IN ('person', 'state', 'government', 'government_body', 'military',
                        'political_party', 'international_organization', 'organization',
                        'armed_group', 'media_outlet', 'community', 'delegation')),
    country_code TEXT
        CONSTRAINT "country_code: must be an ISO 3166-1 alpha-2 code such as SY or IL"
        CHECK (length(country_code) = 2 AND country_code NOT GLOB '*[^A-Z]*'),
    -- Role or title at the time of the events.
    description TEXT,
    parent_id TEXT REFERENCES actors(id),
    notes TEXT,
    CONSTRAINT "parent_id: an actor cannot be its own parent" CHECK (parent_id IS NOT id)
) STRICT;

-- The names of actors and places by language, one row per name: the record's
-- own name (English, its display name in English) and each alias, which
-- sources/ writes as {name: TEXT, lang: TAG}. The loader makes these rows from
-- the aliases and display: fields of actors and places (no file has a
-- record_names: section) and computes script from the name's letters, so a
-- tag that says a script the name is not written in is refused here, at the
-- alias's line. aliases keeps the texts alone, for search and imports.
CREATE TABLE record_names (
    table_name TEXT NOT NULL
        CONSTRAINT "table_name: must be actors or places" CHECK (table_name IN ('actors', 'places')),
    record_id TEXT NOT NULL,
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name, char(32, 9, 10, 13)) <> ''),
    -- A BCP 47 tag: the language (en, ar, he, fr) of a name in that language's
    -- own script, and with a script subtag that of a transliteration (ar-Latn,
    -- he-Latn: Arabic or Hebrew written in Latin letters).
    lang TEXT NOT NULL
        CONSTRAINT "lang: must be a BCP 47 tag: a language such as en, ar or he, or a transliteration such as ar-Latn"
        CHECK (lang GLOB '[a-z][a-z]' OR lang GLOB '[a-z][a-z][a-z]'
               OR lang GLOB '[a-z][a-z]-[A-Z][a-z][a-z][a-z]' OR lang GLOB '[a-z][a-z][a-z]-[A-Z][a-z][a-z][a-z]'),
    -- The ISO 15924 code of the script the name's letters are written in
    -- (Latn, Arab, Hebr, Cyrl, Grek), computed by the loader.
    script TEXT NOT NULL
        CONSTRAINT "script: must be an ISO 15924 code such as Latn, Arab or Hebr"
        CHECK (script GLOB '[A-Z][a-z][a-z][a-z]'),
    -- 1 for the record's display name in its language: its name in English,
    -- and in another language the alias its display: field gives.
    display INTEGER NOT NULL DEFAULT 0
        CONSTRAINT "display: must be true or false" CHECK (display IN (0, 1)),
    PRIMARY KEY (table_name, record_id, lang, name),
    -- A tag without a script subtag means the language's own script: Arabic
    -- script for ar, fa and ur, Hebrew for he and yi, Cyrillic for ru, uk and
    -- bg, Greek for el, and Latin for the rest (en, fr, tr); any other script
    -- is named in the tag (ar-Latn, zh-Hani).
    CONSTRAINT "lang: does not match the script the name is written in: a name in Latin letters is en, fr, or a transliteration such as ar-Latn or he-Latn; one in Arabic script ar (or fa), in Hebrew script he"
        CHECK (script = CASE
            WHEN lang GLOB '*-[A-Z][a-z][a-z][a-z]' THEN substr(lang, -4)
            WHEN lang = 'ar' OR lang = 'fa' OR lang = 'ur' OR lang = 'ps' THEN 'Arab'
            WHEN lang = 'he' OR lang = 'yi' THEN 'Hebr'
            WHEN lang = 'ru' OR lang = 'uk' OR lang = 'bg' THEN 'Cyrl'
            WHEN lang = 'el' THEN 'Grek'
            ELSE 'Latn' END)
) STRICT;

CREATE TABLE events (
    -- A stable slug: never reused, never renamed once published.
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    title TEXT NOT NULL
        CONSTRAINT "title: must not be blank" CHECK (trim(title, char(32, 9, 10, 13)) <> ''),
    summary TEXT NOT NULL
        CONSTRAINT "summary: must not be blank" CHECK (trim(summary, char(32, 9, 10, 13)) <> ''),
    event_type TEXT NOT NULL REFERENCES event_types(code),
    -- Earliest and latest possible day, as UCDP records them.
    start_date TEXT NOT NULL
        CONSTRAINT "start_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (start_date IS date(start_date, '+0 days'))
        CONSTRAINT "start_date: must be between 1800-01-01 and 2100-12-31"
        CHECK (start_date BETWEEN '1800-01-01' AND '2100-12-31'
               OR start_date IS NOT date(start_date, '+0 days')),
    end_date TEXT NOT NULL
        CONSTRAINT "end_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (end_date IS date(end_date, '+0 days'))
        CONSTRAINT "end_date: must be between 1800-01-01 and 2100-12-31"
        CHECK (end_date BETWEEN '1800-01-01' AND '2100-12-31'
               OR end_date IS NOT date(end_date, '+0 days')),
    date_precision TEXT NOT NULL
        -- 'days': one of a few days the sources leave open ("on the 5th or
        -- the 6th"), no more than a week's worth; 'week': somewhere in a
        -- window of up to two weeks ("last week").
        CONSTRAINT "date_precision: must be one of day, days, week, month, year"
        CHECK (date_precision IN ('day', 'days', 'week', 'month', 'year')),
    place_id TEXT REFERENCES places(id),
    -- Why the event has no place (the articles do not say where; a position
    -- in talks, tied to no venue), in the curators' words: given exactly
    -- when place_id is not.
    place_unknown TEXT,
    -- How the curators worked out a date no document gives (a span that
    -- ends with the article and starts where they read it to), in their
    -- words: given exactly when inferred lists 'date'.
    date_inference TEXT,
    status TEXT NOT NULL DEFAULT 'reported'
        CONSTRAINT "status: must be one of reported, confirmed, disputed, planned"
        CHECK (status IN ('reported', 'confirmed', 'disputed', 'planned')),
    notes TEXT,
    -- Where the record comes from: 'curated' for sources/, otherwise the name
    -- of the import that brought it in (build --import), such as 'acled'.
    origin TEXT NOT NULL DEFAULT 'curated'
        CONSTRAINT "origin: must be a slug of lowercase letters, digits and hyphens"
        CHECK (origin <> '' AND origin NOT GLOB '*[^a-z0-9-]*' AND origin NOT GLOB '-*'),
    -- How closely place_id stands for where this event happened, when the
    -- origin says (ACLED's geo_precision) or the curators do: 'country' when
    -- the articles name only the country, 'representative' when the place
    -- stands in for a spot the articles do not give; left out when place_id
    -- is where it happened. See places.geo_precision.
    geo_precision TEXT
        CONSTRAINT "geo_precision: must be one of exact, locality, representative, country"
        CHECK (geo_precision IN ('exact', 'locality', 'representative', 'country')),
    fatalities INTEGER
        CONSTRAINT "fatalities: must be zero or more" CHECK (fatalities >= 0),
    -- The geographic scale of the sources behind the event, as ACLED names it
    -- ('National', 'Subnational-Regional', ...).
    source_scale TEXT,
    -- The origin's own tags, as it writes them (ACLED: 'crowd size=no report').
    tags TEXT,
    -- When the origin last changed the record, ISO 8601 in UTC (ACLED's timestamp).
    origin_updated TEXT,
    -- Ids this event was published under before, so that old links and
    -- citations still lead to it (ids are never reused).
    aliases TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "aliases: must be a list of strings"
        CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
    -- Events that look like this one (same place, overlapping dates, two or
    -- more shared actors) but are different events: validate stops warning
    -- about them.
    distinct_from TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "distinct_from: must be a list of event ids"
        CHECK (json_valid(distinct_from) AND json_type(distinct_from) = 'array'),
    -- Which of the event's facts are the curators' inference rather than
    -- what a document says (date_inference says how for the date, notes for
    -- the others), and what the record takes from outside the documents at
    -- all: marked here, not only in prose.
    inferred TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "inferred: must be a list of: occurrence, date, place, actors, type, outcome, casualties, purpose"
        CHECK (json_valid(inferred) AND json_type(inferred) = 'array'
               AND trim(replace(replace(replace(replace(replace(replace(replace(replace(inferred,
                   '"occurrence"', ''), '"date"', ''), '"place"', ''), '"actors"', ''), '"type"', ''),
                   '"outcome"', ''), '"casualties"', ''), '"purpose"', ''), '[], ') = ''),
    outside_knowledge TEXT
        CONSTRAINT "outside_knowledge: must not be blank" CHECK (trim(outside_knowledge, char(32, 9, 10, 13)) <> ''),
    -- The checks of inferred below look for its quoted words: the CHECK on
    -- inferred itself allows no other strings in the list.
    CONSTRAINT "notes: an event whose facts other than its date are inferred says in notes how"
        CHECK (trim(replace(inferred, '"date"', ''), '[], ') = ''
               OR coalesce(trim(notes, char(32, 9, 10, 13)), '') <> ''),
    CONSTRAINT "date_inference: an event whose date is inferred must say how the date was inferred"
        CHECK (instr(inferred, '"date"') = 0 OR coalesce(trim(date_inference, char(32, 9, 10, 13)), '') <> ''),
    CONSTRAINT "date_inference: only an event whose inferred lists date says how its date was inferred: add date to inferred or remove date_inference"
        CHECK (instr(inferred, '"date"') > 0 OR date_inference IS NULL),
    CONSTRAINT "place_unknown: an event without a place_id must say why it has no place"
        CHECK (place_id IS NOT NULL OR coalesce(trim(place_unknown, char(32, 9, 10, 13)), '') <> ''),
    CONSTRAINT "place_unknown: only an event with no place_id says why it has no place: remove place_unknown or place_id"
        CHECK (place_id IS NULL OR place_unknown IS NULL),
    CONSTRAINT "geo_precision: only an event with a place_id says how closely the place stands for it"
        CHECK (place_id IS NOT NULL OR geo_precision IS NULL),
    CONSTRAINT "end_date: must not be before start_date" CHECK (julianday(end_date) >= julianday(start_date)),
    CONSTRAINT "end_date: a days-precision span runs from two to seven days (longer: use week)"
        CHECK (date_precision <> 'days'
               OR julianday(end_date) - julianday(start_date) BETWEEN 1 AND 6),
    CONSTRAINT "end_date: a week-precision span runs from two to fourteen days"
        CHECK (date_precision <> 'week'
               OR julianday(end_date) - julianday(start_date) BETWEEN 1 AND 13),
    CONSTRAINT "end_date: a month-precision span runs from the first day of a month to the last day of a month"
        CHECK (date_precision <> 'month'
               OR (start_date = date(start_date, 'start of month')
                   AND end_date = date(end_date, 'start of month', '+1 month', '-1 day'))),
    CONSTRAINT "end_date: a year-precision span runs from 1 January to 31 December"
        CHECK (date_precision <> 'year'
               OR (substr(start_date, 6) = '01-01' AND substr(end_date, 6) = '12-31'))
) STRICT;

CREATE TABLE event_actors (
    event_id TEXT NOT NULL REFERENCES events(id),
    actor_id TEXT NOT NULL REFERENCES actors(id),
    role TEXT NOT NULL
        CONSTRAINT "role: must be one of participant, mediator, host, initiator, target, signatory, guarantor, supporter, observer, affected"
        CHECK (role IN ('participant', 'mediator', 'host', 'initiator', 'target', 'signatory',
                        'guarantor', 'supporter', 'observer', 'affected')),
    note TEXT,
    -- What of this row is the curators' inference rather than the document's
    -- words: the actor (an unnamed party identified), its role, or both.
    inferred TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "inferred: must be a list of: actor, role"
        CHECK (json_valid(inferred) AND json_type(inferred) = 'array'
               AND trim(replace(replace(inferred, '"actor"', ''), '"role"', ''), '[], ') = ''),
    PRIMARY KEY (event_id, actor_id, role)
) STRICT;

-- The documents that name an actor in a role at an event, one row each, so
-- that a report and a preview can both back "X, participant". Curated events
-- give at least one for every row of event_actors (written in the actor's
-- entry: document_id, basis and paragraphs for one document, or a list under
-- documents for several; the loader fills in an event's sole citation);
-- imports give none. Rows are only ever written nested in their actor's
-- entry, which is what ties (event_id, actor_id, role) to its event_actors row.
CREATE TABLE event_actor_documents (
    event_id TEXT NOT NULL REFERENCES events(id),
    actor_id TEXT NOT NULL REFERENCES actors(id),
    role TEXT NOT NULL,
    -- A document that names this actor in this role, one the event cites.
    document_id TEXT NOT NULL REFERENCES documents(id),
    -- 'preview' when the document names the actor ahead of the event (who was
    -- expected to attend) rather than reporting what happened.
    basis TEXT NOT NULL DEFAULT 'report'
        CONSTRAINT "basis: must be one of report, preview"
        CHECK (basis IN ('report', 'preview')),
    -- Whom the document relays in naming the actor so (see event_documents.via).
    via TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "via: must be a list of actor ids"
        CHECK (json_valid(via) AND json_type(via) = 'array'),
    -- The paragraphs of document_id that name the actor in this role.
    paragraphs TEXT
        CONSTRAINT "paragraphs: must be a non-empty list of locators written N:HASH, such as 5:3fa2b1c0"
        CHECK (paragraphs IS NULL OR json_valid(paragraphs) AND json_type(paragraphs) = 'array'
               AND json_array_length(paragraphs) >= 1
               AND json(paragraphs) NOT GLOB '*[^]0-9a-f:,"[]*'
               AND length(json(paragraphs)) - length(replace(json(paragraphs), '"', '')) = 2 * json_array_length(paragraphs)
               AND length(json(paragraphs)) - length(replace(json(paragraphs), ':', '')) = json_array_length(paragraphs)
               AND json(paragraphs) NOT GLOB '*[^0-9]:*' AND json(paragraphs) NOT GLOB '*"0*'),
    PRIMARY KEY (event_id, actor_id, role, document_id)
) STRICT;

CREATE TABLE event_documents (
    event_id TEXT NOT NULL REFERENCES events(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    -- What the document supports about the event.
    note TEXT,
    -- Which of the event's fields the document supports, from a fixed
    -- vocabulary: occurrence (that it happened at all), date, place, actors,
    -- type, outcome, casualties, purpose.
    supports TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "supports: must be a list of: occurrence, date, place, actors, type, outcome, casualties, purpose"
        CHECK (json_valid(supports) AND json_type(supports) = 'array'
               AND trim(replace(replace(replace(replace(replace(replace(replace(replace(supports,
                   '"occurrence"', ''), '"date"', ''), '"place"', ''), '"actors"', ''), '"type"', ''),
                   '"outcome"', ''), '"casualties"', ''), '"purpose"', ''), '[], ') = ''),
    -- 'preview' when the document announces or anticipates the event, so what
    -- it supports is what was expected, not what happened.
    basis TEXT NOT NULL DEFAULT 'report'
        CONSTRAINT "basis: must be one of report, preview"
        CHECK (basis IN ('report', 'preview')),
    -- Whom the document relays for what it is cited for, when it has it
    -- second-hand: the outlets and sources whose reporting it passes on ("a
    -- diplomat told AFP", "according to Axios"), as a JSON list of actor ids;
    -- empty when it reports first-hand (its own reporters, its own sources).
    -- Actor ids rather than free text: a relayed outlet is no document of the
    -- store (no copy of its report is held), but it is an actor already, of
    -- kind media_outlet, or the unnamed source it quoted, the same records
    -- claims name as claimants; an id is checked by validate (did you mean),
    -- leads to the actor's page with its names in every script, and lets a
    -- reader find every document that relays one outlet, where free text
    -- would spell AFP three ways. An outlet not yet recorded is added to
    -- sources/actors.yml first, as a new claimant is. On the same field of
    -- event_actor_documents and claims it means the same; a claim's via
    -- names who carried the words between the claimant and the document.
    via TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "via: must be a list of actor ids"
        CHECK (json_valid(via) AND json_type(via) = 'array'),
    -- The paragraphs of the document's archived copy that say what this
    -- citation is cited for: a JSON array of locators "N:HASH", N the
    -- paragraph's number and HASH the first 8 hex digits of the SHA-256 of
    -- its text (loader/archive.py defines a paragraph; validate checks each
    -- locator's exact form, and each against the archive when it has it).
    -- Required of curated records by validate; imports have none.
    -- The rule is written out again on every locator column (here, in
    -- event_actors, claims, event_relations, and documents.date_paragraphs,
    -- which may be empty): SQLite cannot share a CHECK, which may use no
    -- subquery, view or other table, and a trigger is one table's too; a SQL
    -- function of our own would be missing for every other reader of the
    -- file. tests/test_schema.py holds the copies to one rule.
    paragraphs TEXT
        CONSTRAINT "paragraphs: must be a non-empty list of locators written N:HASH, such as 5:3fa2b1c0"
        CHECK (paragraphs IS NULL OR json_valid(paragraphs) AND json_type(paragraphs) = 'array'
               AND json_array_length(paragraphs) >= 1
               AND json(paragraphs) NOT GLOB '*[^]0-9a-f:,"[]*'
               AND length(json(paragraphs)) - length(replace(json(paragraphs), '"', '')) = 2 * json_array_length(paragraphs)
               AND length(json(paragraphs)) - length(replace(json(paragraphs), ':', '')) = json_array_length(paragraphs)
               AND json(paragraphs) NOT GLOB '*[^0-9]:*' AND json(paragraphs) NOT GLOB '*"0*'),
    -- Which of supports the curators infer from the document rather than
    -- read in it (a date worked out from "on Tuesday"); each is in supports.
    inferred TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "inferred: must be a list of: occurrence, date, place, actors, type, outcome, casualties, purpose"
        CHECK (json_valid(inferred) AND json_type(inferred) = 'array'
               AND trim(replace(replace(replace(replace(replace(replace(replace(replace(inferred,
                   '"occurrence"', ''), '"date"', ''), '"place"', ''), '"actors"', ''), '"type"', ''),
                   '"outcome"', ''), '"casualties"', ''), '"purpose"', ''), '[], ') = ''),
    PRIMARY KEY (event_id, document_id)
) STRICT;

-- A question the sources answer differently, such as whether a meeting was
-- the first direct talks. Each answer is a position held by claims.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    -- The event the question is about; NULL for a question about no one event.
    event_id TEXT REFERENCES events(id),
    question TEXT NOT NULL
        CONSTRAINT "question: must not be blank" CHECK (trim(question, char(32, 9, 10, 13)) <> ''),
    status TEXT NOT NULL DEFAULT 'open'
        CONSTRAINT "status: must be one of open, settled"
        CHECK (status IN ('open', 'settled')),
    -- How it was settled, if it was.
    notes TEXT,
    CONSTRAINT "notes: a settled dispute must say how it was settled"
        CHECK (status <> 'settled' OR coalesce(trim(notes, char(32, 9, 10, 13)), '') <> '')
) STRICT;

CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    event_id TEXT REFERENCES events(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    -- Who asserts it; NULL when the document asserts it in its own voice.
    claimant_id TEXT REFERENCES actors(id),
    -- Whom the document has the claim from, when not from the claimant
    -- directly: the outlets that carried the claimant's words ("a source told
    -- i24", relayed by the Syrian Observer), as in event_documents.via. The
    -- claimant is never among them: claimant_id already says whose words
    -- they are, and a claim the document takes straight from an outlet has
    -- that outlet as its claimant and an empty via.
    via TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "via: must be a list of actor ids"
        CHECK (json_valid(via) AND json_type(via) = 'array'),
    statement TEXT NOT NULL
        CONSTRAINT "statement: must not be blank" CHECK (trim(statement, char(32, 9, 10, 13)) <> ''),
    stance TEXT NOT NULL
        CONSTRAINT "stance: must be one of asserts, denies, disputes, confirms, qualifies"
        CHECK (stance IN ('asserts', 'denies', 'disputes', 'confirms', 'qualifies')),
    notes TEXT,
    -- The question this claim answers, if any, and its answer in a few words.
    dispute_id TEXT REFERENCES disputes(id),
    position TEXT
        CONSTRAINT "position: must not be blank" CHECK (trim(position, char(32, 9, 10, 13)) <> ''),
    -- The paragraphs of document_id that make the claim (see event_documents).
    paragraphs TEXT
        CONSTRAINT "paragraphs: must be a non-empty list of locators written N:HASH, such as 5:3fa2b1c0"
        CHECK (paragraphs IS NULL OR json_valid(paragraphs) AND json_type(paragraphs) = 'array'
               AND json_array_length(paragraphs) >= 1
               AND json(paragraphs) NOT GLOB '*[^]0-9a-f:,"[]*'
               AND length(json(paragraphs)) - length(replace(json(paragraphs), '"', '')) = 2 * json_array_length(paragraphs)
               AND length(json(paragraphs)) - length(replace(json(paragraphs), ':', '')) = json_array_length(paragraphs)
               AND json(paragraphs) NOT GLOB '*[^0-9]:*' AND json(paragraphs) NOT GLOB '*"0*'),
    CONSTRAINT "position: a claim that answers a dispute gives its position, and only such a claim has one"
        CHECK ((dispute_id IS NULL) = (position IS NULL)),
    CONSTRAINT "via: names who carried the claimant's words, never the claimant: remove the claimant from via"
        CHECK (claimant_id IS NULL OR instr(via, '"' || claimant_id || '"') = 0)
) STRICT;

-- Event relations (sources/relations.yml, written there under "relations:"):
-- how one curated event stands to another, from a fixed vocabulary that
-- docs/curating.md defines. from_event_id is the subject: it is part_of a
-- process, follows the event before it in the same sequence, announces the
-- event that then happened (a preview or a report of plans), responds_to the
-- event it reacts to, or is the same_as another record of one happening. Each
-- link is cited to the document that says it, with its paragraphs, or marked
-- inferred with a note saying why. loader/relations.py refuses a cycle in
-- part_of or follows; loader/evidence.py checks the locators.
CREATE TABLE event_relations (
    from_event_id TEXT NOT NULL REFERENCES events(id),
    type TEXT NOT NULL
        CONSTRAINT "type: must be one of part_of, follows, announces, responds_to, same_as"
        CHECK (type IN ('part_of', 'follows', 'announces', 'responds_to', 'same_as')),
    to_event_id TEXT NOT NULL REFERENCES events(id),
    -- The document that says the two events are so related.
    document_id TEXT REFERENCES documents(id),
    -- The paragraphs of document_id that say it (see event_documents).
    paragraphs TEXT
        CONSTRAINT "paragraphs: must be a non-empty list of locators written N:HASH, such as 5:3fa2b1c0"
        CHECK (paragraphs IS NULL OR json_valid(paragraphs) AND json_type(paragraphs) = 'array'
               AND json_array_length(paragraphs) >= 1
               AND json(paragraphs) NOT GLOB '*[^]0-9a-f:,"[]*'
               AND length(json(paragraphs)) - length(replace(json(paragraphs), '"', '')) = 2 * json_array_length(paragraphs)
               AND length(json(paragraphs)) - length(replace(json(paragraphs), ':', '')) = json_array_length(paragraphs)
               AND json(paragraphs) NOT GLOB '*[^0-9]:*' AND json(paragraphs) NOT GLOB '*"0*'),
    -- 1 (inferred: true) when no document says it and the curators infer it.
    inferred INTEGER NOT NULL DEFAULT 0
        CONSTRAINT "inferred: must be true or false" CHECK (inferred IN (0, 1)),
    -- A part's number in its process, as the cited document numbers it ("the fifth round").
    number INTEGER
        CONSTRAINT "number: must be 1 or more" CHECK (number >= 1),
    note TEXT,
    PRIMARY KEY (from_event_id, type, to_event_id),
    CONSTRAINT "to_event_id: an event cannot be related to itself" CHECK (to_event_id IS NOT from_event_id),
    CONSTRAINT "number: only a part_of relation numbers its part" CHECK (number IS NULL OR type = 'part_of'),
    CONSTRAINT "document_id: a relation cites the document that says it, or is marked inferred: true, not both"
        CHECK ((document_id IS NULL) = (inferred = 1)),
    CONSTRAINT "paragraphs: only a relation that cites a document lists its paragraphs"
        CHECK (paragraphs IS NULL OR document_id IS NOT NULL),
    CONSTRAINT "note: an inferred relation says in note why the curators infer it"
        CHECK (inferred = 0 OR coalesce(trim(note, char(32, 9, 10, 13)), '') <> '')
) STRICT;

-- A record taken out after a release published its id: removed, or merged
-- into another (replaced_by). An id once published is never silently dropped:
-- the build refuses sources that lose one without a withdrawal here (see
-- loader/published.py), and the site's page for the id says it was withdrawn.
CREATE TABLE withdrawals (
    -- The table the withdrawn record was published in.
    table_name TEXT NOT NULL
        CONSTRAINT "table_name: must be one of events, actors, places, documents, claims, event_types"
        CHECK (table_name IN ('events', 'actors', 'places', 'documents', 'claims', 'event_types')),
    id TEXT NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    withdrawn TEXT NOT NULL
        CONSTRAINT "withdrawn: must be a real calendar date written YYYY-MM-DD"
        CHECK (withdrawn IS date(withdrawn, '+0 days'))
        CONSTRAINT "withdrawn: must be between 1800-01-01 and 2100-12-31"
        CHECK (withdrawn BETWEEN '1800-01-01' AND '2100-12-31'
               OR withdrawn IS NOT date(withdrawn, '+0 days')),
    reason TEXT NOT NULL
        CONSTRAINT "reason: must not be blank" CHECK (trim(reason, char(32, 9, 10, 13)) <> ''),
    -- The record that now stands for it, in the same table, when it was merged.
    replaced_by TEXT
        CONSTRAINT "replaced_by: must be a slug of lowercase letters, digits and hyphens"
        CHECK (replaced_by <> '' AND replaced_by NOT GLOB '*[^a-z0-9-]*' AND replaced_by NOT GLOB '-*'),
    PRIMARY KEY (table_name, id),
    CONSTRAINT "replaced_by: a record cannot replace itself" CHECK (replaced_by IS NOT id)
) STRICT;

-- Curated decisions on imports (loader/reconcile.py): the name an origin
-- (build --import) gives a place or an actor, and the curated record it is
-- ('same') or is not ('apart'). They override the matching by GeoNames id,
-- name and alias, which links most imported places and actors by itself.
CREATE TABLE place_matches (
    origin TEXT NOT NULL
        CONSTRAINT "origin: must be a slug of lowercase letters, digits and hyphens"
        CHECK (origin <> '' AND origin NOT GLOB '*[^a-z0-9-]*' AND origin NOT GLOB '-*'),
    -- The place's name exactly as the origin writes it (ACLED's location).
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name, char(32, 9, 10, 13)) <> ''),
    place_id TEXT NOT NULL REFERENCES places(id),
    decision TEXT NOT NULL DEFAULT 'same'
        CONSTRAINT "decision: must be same or apart" CHECK (decision IN ('same', 'apart')),
    notes TEXT,
    PRIMARY KEY (origin, name, place_id)
) STRICT;

CREATE TABLE actor_matches (
    origin TEXT NOT NULL
        CONSTRAINT "origin: must be a slug of lowercase letters, digits and hyphens"
        CHECK (origin <> '' AND origin NOT GLOB '*[^a-z0-9-]*' AND origin NOT GLOB '-*'),
    -- The actor's name exactly as the origin writes it (ACLED's actor1, assoc_actor_1, ...).
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name, char(32, 9, 10, 13)) <> ''),
    actor_id TEXT NOT NULL REFERENCES actors(id),
    decision TEXT NOT NULL DEFAULT 'same'
        CONSTRAINT "decision: must be same or apart" CHECK (decision IN ('same', 'apart')),
    notes TEXT,
    PRIMARY KEY (origin, name, actor_id)
) STRICT;

-- @after-load ---------------------------------------------------------------

-- An index on every foreign key and every column people facet or sort by.
CREATE INDEX places_parent_id ON places(parent_id);
CREATE INDEX places_kind ON places(kind);
-- A filter on the event list's place_name finds the place by name (plugins/facet_counts.py).
CREATE INDEX places_name ON places(name);
CREATE INDEX places_country_code ON places(country_code);
CREATE INDEX actors_parent_id ON actors(parent_id);
-- A click on an actor in the event list's actor facet finds the actor by name (plugins/facet_counts.py).
CREATE INDEX actors_name ON actors(name);
CREATE INDEX actors_kind ON actors(kind);
CREATE INDEX actors_country_code ON actors(country_code);
-- With start_date, so a type's events come out newest first without a sort,
-- and place_id, so the map of a type's events counts them by place from the
-- index alone (plugins/server_map.py).
CREATE INDEX events_event_type ON events(event_type, start_date, place_id);
-- With start_date, so a place's events (a facet click, the map's popups) come
-- out newest first without a sort.
CREATE INDEX events_place_id ON events(place_id, start_date);
-- Each with start_date and place_id, as events_event_type: a facet click's
-- page (newest first, as the event lists sort) reads the first rows of the
-- index instead of sorting every matching event, and its map reads no row.
CREATE INDEX events_status ON events(status, start_date, place_id);
CREATE INDEX events_date_precision ON events(date_precision, start_date, place_id);
CREATE INDEX events_start_date ON events(start_date, end_date);
-- Datasette's date facet groups by date(start_date); with this index it reads
-- the index instead of computing the expression for every row.
CREATE INDEX events_start_day ON events(date(start_date));
-- The event list's year facet and filter (event_list.year) read this index.
CREATE INDEX events_start_year ON events(substr(start_date, 1, 4));
CREATE INDEX events_origin ON events(origin, start_date, place_id);
-- Conflict data is filtered by type and death toll together; this counts such a filter
-- without reading the rows.
CREATE INDEX events_event_type_fatalities ON events(event_type, fatalities);
-- An overview square (an actor's events in a month or year, not dated to a
-- year alone) finds the actor's events by id, and tells which are in the
-- period from this index, reading only those rows.
CREATE INDEX events_id_dates ON events(id, start_date, date_precision);
-- Told only that id is unique, SQLite reads every row by id through the key's
-- own index; the statistics of events' indexes (from a sample of each, in well
-- under a second at a million events) let it prefer the index above.
PRAGMA analysis_limit = 1000;
ANALYZE events;
-- An actor's events by their ids alone, as a click on an actor finds them
-- (plugins/facet_counts.py), without reading a row of event_actors each.
CREATE INDEX event_actors_actor_id ON event_actors(actor_id, event_id);
CREATE INDEX event_actors_role ON event_actors(role);
CREATE INDEX event_documents_document_id ON event_documents(document_id);
CREATE INDEX claims_event_id ON claims(event_id);
CREATE INDEX claims_document_id ON claims(document_id);
CREATE INDEX claims_claimant_id ON claims(claimant_id);
CREATE INDEX claims_stance ON claims(stance);
CREATE INDEX claims_dispute_id ON claims(dispute_id);
CREATE INDEX disputes_event_id ON disputes(event_id);
CREATE INDEX event_actor_documents_document_id ON event_actor_documents(document_id);
CREATE INDEX event_actor_documents_actor_id ON event_actor_documents(actor_id);
CREATE INDEX withdrawals_replaced_by ON withdrawals(replaced_by);
CREATE INDEX place_matches_place_id ON place_matches(place_id);
CREATE INDEX actor_matches_actor_id ON actor_matches(actor_id);
-- An event's relations from either end: its page lists both.
CREATE INDEX event_relations_to ON event_relations(to_event_id, type);
CREATE INDEX event_relations_document ON event_relations(document_id);

-- The files imported beside the curated sources (build --import), so that a
-- later build or serve re-imports them rather than silently dropping them.
-- The loader fills it; it sits below the marker because curators never write
-- its rows.
CREATE TABLE imports (
    origin TEXT PRIMARY KEY NOT NULL,  -- the name its events carry in events.origin
    path TEXT NOT NULL,  -- as given; relative paths are to the directory of the database
    format TEXT NOT NULL,  -- 'acled', or 'events' for the store's own columns
    sha256 TEXT NOT NULL,
    skip_invalid INTEGER NOT NULL,  -- 1 when invalid rows were skipped rather than refused
    events INTEGER NOT NULL,
    skipped INTEGER NOT NULL) STRICT;

-- Which version of the dataset this database is, and what it was built from
-- (one row, written by every build; see loader/version.py). version is the
-- release's date-based version, YYYY.MM.DD, or 'unreleased' for a plain build;
-- released is the release's ISO date, NULL for a plain build; built_from is
-- the git commit the sources were read at, NULL outside a checkout; and
-- sources_date is the ISO date of the newest commit (or, outside a checkout,
-- file) the build read, never the clock, so identical sources give identical files.
CREATE TABLE dataset_release (
    version TEXT NOT NULL,
    released TEXT,
    built_from TEXT,
    sources_date TEXT NOT NULL) STRICT;

-- Every commit that added, changed or removed a record in sources/, from the
-- git log (see loader/history.py); empty when the sources were not a git checkout.
CREATE TABLE record_history (
    table_name TEXT NOT NULL,  -- the record's table, as its section in sources/ names it
    record_id TEXT NOT NULL,  -- its key; several columns' values joined with '/'
    commit_hash TEXT NOT NULL,
    committed TEXT NOT NULL,  -- the commit's date, ISO 8601 in UTC
    subject TEXT NOT NULL,  -- the first line of the commit message
    change TEXT NOT NULL CHECK (change IN ('added', 'changed', 'removed')),
    -- Each field that changed, as a JSON object of field: {"old": value, "new": value}.
    fields TEXT NOT NULL,
    PRIMARY KEY (table_name, record_id, commit_hash)) STRICT;
CREATE INDEX record_history_committed ON record_history(committed);

-- The releases of this dataset, from sources/releases.tsv, which `release`
-- appends to: its version, date, and the commit it was cut from and that
-- commit's date (ISO 8601 in UTC), by which record_history is placed in releases.
CREATE TABLE releases (
    version TEXT PRIMARY KEY NOT NULL,
    released TEXT NOT NULL,
    commit_hash TEXT,
    committed TEXT) STRICT;

-- Full-text indexes over the rows' own text. Names and aliases are indexed
-- together, so a search for any spelling ("Shaibani", "Suwayda") finds the row.
-- Diacritics are folded so that "Suwaydā" and "Suwayda" match alike.
-- An event is found by its own words and by every name and alias of each
-- actor and place it involves or mentions, so that "Shibani", "Shaibani" and
-- "الشيباني" find the same meetings, and "Sweida", "Suwayda" and "السويداء"
-- the same events in and about Sweida whichever spelling the summary uses.
-- The mentions are found with a throwaway index of the curated events' own
-- words (every spelling of every actor and place, looked up as a phrase);
-- imported events are found by the actors and places they are linked to.
CREATE TEMP TABLE spellings AS
    SELECT 'actor' AS kind, id, name AS spelling FROM actors
    UNION SELECT 'actor', a.id, j.value FROM actors AS a, json_each(a.aliases) AS j
    UNION SELECT 'place', id, name FROM places
    UNION SELECT 'place', p.id, j.value FROM places AS p, json_each(p.aliases) AS j;
CREATE VIRTUAL TABLE temp.event_words USING fts5(
    words, content='', tokenize="unicode61 remove_diacritics 2");
INSERT INTO temp.event_words(rowid, words)
    SELECT rowid, title || ' ' || summary FROM events WHERE origin = 'curated';
CREATE TEMP TABLE event_mentions AS
    SELECT DISTINCT w.rowid AS event_rowid, s.kind, s.id
    FROM spellings AS s
    JOIN temp.event_words AS w ON w.event_words MATCH '"' || replace(s.spelling, '"', '""') || '"';
CREATE INDEX temp.event_mentions_event ON event_mentions(event_rowid, kind, id);
-- Each event's names are gathered first and indexed after: computing them
-- while the index is being written takes twice as long.
CREATE TEMP TABLE event_text AS
    SELECT e.rowid AS event_rowid, e.title, e.summary,
           coalesce((SELECT group_concat(a.name || ' ' || a.aliases, ' ')
                     FROM event_actors AS ea JOIN actors AS a ON a.id = ea.actor_id
                     WHERE ea.event_id = e.id), '')
           || ' ' || coalesce((SELECT name || ' ' || aliases FROM places WHERE id = e.place_id), '')
           || ' ' || coalesce((SELECT group_concat(coalesce(a.name || ' ' || a.aliases, p.name || ' ' || p.aliases), ' ')
                               FROM temp.event_mentions AS m
                               LEFT JOIN actors AS a ON m.kind = 'actor' AND a.id = m.id
                               LEFT JOIN places AS p ON m.kind = 'place' AND p.id = m.id
                               WHERE m.event_rowid = e.rowid), '') AS names
    FROM events AS e;
-- Contentless: the text lives in events, actors and places; the index only
-- answers which rows match, which is all Datasette's search asks of it.
CREATE VIRTUAL TABLE events_fts USING fts5(
    title, summary, names, content='', tokenize="unicode61 remove_diacritics 2");
INSERT INTO events_fts(rowid, title, summary, names)
    SELECT event_rowid, title, summary, names FROM temp.event_text ORDER BY event_rowid;
DROP TABLE temp.event_text;
DROP TABLE temp.event_mentions;
DROP TABLE temp.event_words;
DROP TABLE temp.spellings;
CREATE VIRTUAL TABLE actors_fts USING fts5(
    name, aliases, description, content="actors", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE places_fts USING fts5(
    name, aliases, content="places", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE claims_fts USING fts5(
    statement, content="claims", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE documents_fts USING fts5(
    title, outlet, author, content="documents", tokenize="unicode61 remove_diacritics 2");
INSERT INTO actors_fts(actors_fts) VALUES ('rebuild');
INSERT INTO places_fts(places_fts) VALUES ('rebuild');
INSERT INTO claims_fts(claims_fts) VALUES ('rebuild');
INSERT INTO documents_fts(documents_fts) VALUES ('rebuild');

-- Views for publishing ---------------------------------------------------------
-- Datasette shows these beside the tables. They hold the SQL that the site's
-- pages, map, feeds and canned queries share, so each rule is written once.

-- Every place with how many events happened there, and what the map and
-- GeoJSON need. The count is a correlated subquery (one index lookup a place),
-- not a join on a grouped count, so SQLite can flatten this view into the
-- queries that read it and counts only when the count is asked for.
CREATE VIEW place_list AS
WITH counted AS (
    SELECT p.rowid AS rowid, p.*, (SELECT count(*) FROM events WHERE place_id = p.id) AS events
    FROM places AS p
)
SELECT
    p.rowid,
    p.id,
    p.name,
    p.aliases,
    p.kind,
    p.country_code,
    p.parent_id,
    (SELECT name FROM places WHERE id = p.parent_id) AS parent_name,
    p.events,
    p.latitude,
    p.longitude,
    p.geo_precision,
    p.geonames_id,
    json_object(
        'title', p.name,
        'description', replace(p.kind, '_', ' ') || coalesce(' in ' || p.country_code, '')
            || ' · ' || p.events || CASE p.events WHEN 1 THEN ' event' ELSE ' events' END,
        'link', 'places/' || p.id  -- relative to the database's address: see event_list's popup
    ) AS popup,
    CASE WHEN p.latitude IS NOT NULL THEN
        json_object('type', 'Point', 'coordinates', json_array(p.longitude, p.latitude))
    END AS geometry
FROM counted AS p;

-- Each event's actors as the event list shows them, written once by the
-- build: a filter on either list (Datasette's arraycontains) reads it for
-- every event it matches, and building it from event_actors each time was
-- most of the cost of a click on a busy actor at a million events.
CREATE TABLE event_actor_lists (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES events(id),
    actor_ids TEXT NOT NULL,  -- a JSON array of its actors' ids, each once, in order
    actor_names TEXT NOT NULL  -- the same actors' names, in the same order
) STRICT, WITHOUT ROWID;
INSERT INTO event_actor_lists
SELECT
    e.id,
    (SELECT json_group_array(actor_id)
       FROM (SELECT DISTINCT actor_id FROM event_actors WHERE event_id = e.id ORDER BY actor_id)),
    (SELECT json_group_array((SELECT name FROM actors WHERE id = ea.actor_id))
       FROM (SELECT DISTINCT actor_id FROM event_actors WHERE event_id = e.id ORDER BY actor_id) AS ea)
FROM events AS e
ORDER BY e.id;

-- Every event with its date said as precisely as the sources allow, its place
-- and coordinates, the ids of its actors (for an array facet), how much
-- evidence stands behind it, and what the map and GeoJSON need.
-- The place's columns are lookups by key rather than a join, so that counting
-- the view or faceting it by an events column reads only an index of events:
-- SQLite drops the lookups a query does not use (it keeps a LEFT JOIN's
-- lookup of places for every row counted). Dates are cut into words
-- with substr rather than parsed (each is checked to be YYYY-MM-DD): the
-- event list computes a label for every row it shows or exports.
CREATE VIEW event_list AS
WITH months(names) AS (
    -- Nine characters a month, so that month m is a substring (dates are YYYY-MM-DD, checked).
    SELECT 'January  February March    April    May      June     '
        || 'July     August   SeptemberOctober  November December '
),
parts AS (
    -- Each end of the span in words; the start leaves out the month and year it shares with the end.
    SELECT
        e.rowid AS rowid,
        e.*,
        CASE
            WHEN substr(e.start_date, 1, 7) = substr(e.end_date, 1, 7)
                THEN CAST(substr(e.start_date, 9, 2) AS INTEGER)
            WHEN substr(e.start_date, 1, 4) = substr(e.end_date, 1, 4)
                THEN CAST(substr(e.start_date, 9, 2) AS INTEGER) || ' '
                     || rtrim(substr((SELECT names FROM months), substr(e.start_date, 6, 2) * 9 - 8, 9))
            ELSE CAST(substr(e.start_date, 9, 2) AS INTEGER) || ' '
                 || rtrim(substr((SELECT names FROM months), substr(e.start_date, 6, 2) * 9 - 8, 9))
                 || ' ' || substr(e.start_date, 1, 4)
        END AS start_words,
        CAST(substr(e.end_date, 9, 2) AS INTEGER) || ' '
            || rtrim(substr((SELECT names FROM months), substr(e.end_date, 6, 2) * 9 - 8, 9))
            || ' ' || substr(e.end_date, 1, 4) AS end_words
    FROM events AS e
),
labelled AS (
    SELECT
        e.*,
        CASE e.date_precision
            WHEN 'day' THEN
                CASE WHEN e.start_date = e.end_date THEN e.end_words
                     ELSE e.start_words || ' to ' || e.end_words END
            WHEN 'days' THEN 'between ' || e.start_words || ' and ' || e.end_words
            WHEN 'week' THEN 'between ' || e.start_words || ' and ' || e.end_words
            WHEN 'month' THEN
                rtrim(substr((SELECT names FROM months), substr(e.start_date, 6, 2) * 9 - 8, 9))
                || CASE
                    WHEN substr(e.start_date, 1, 7) = substr(e.end_date, 1, 7)
                        THEN ' ' || substr(e.start_date, 1, 4)
                    WHEN substr(e.start_date, 1, 4) = substr(e.end_date, 1, 4)
                        THEN ' to ' || rtrim(substr((SELECT names FROM months), substr(e.end_date, 6, 2) * 9 - 8, 9))
                             || ' ' || substr(e.end_date, 1, 4)
                    ELSE ' ' || substr(e.start_date, 1, 4) || ' to '
                         || rtrim(substr((SELECT names FROM months), substr(e.end_date, 6, 2) * 9 - 8, 9))
                         || ' ' || substr(e.end_date, 1, 4)
                   END
            WHEN 'year' THEN
                CASE WHEN substr(e.start_date, 1, 4) = substr(e.end_date, 1, 4)
                     THEN substr(e.start_date, 1, 4)
                     ELSE substr(e.start_date, 1, 4) || ' to ' || substr(e.end_date, 1, 4) END
        END AS date_label,
        (SELECT name FROM places WHERE id = e.place_id) AS place_name,
        (SELECT country_code FROM places WHERE id = e.place_id) AS country_code,
        (SELECT latitude FROM places WHERE id = e.place_id) AS latitude,
        (SELECT longitude FROM places WHERE id = e.place_id) AS longitude,
        (SELECT geo_precision FROM places WHERE id = e.place_id) AS point_precision,
        (SELECT geometry FROM place_list WHERE id = e.place_id) AS geometry
    FROM parts AS e
)
SELECT
    e.rowid,
    e.id,
    e.date_label,
    e.title,
    e.event_type,
    (SELECT label FROM event_types WHERE code = e.event_type) AS type,
    e.status,
    e.origin,
    e.date_precision,
    e.start_date,
    e.end_date,
    substr(e.start_date, 1, 4) AS year,
    e.date_inference,
    e.place_id,
    e.place_name,
    e.place_unknown,
    e.geo_precision AS place_precision,
    e.country_code,
    (SELECT actor_ids FROM event_actor_lists WHERE event_id = e.id) AS actor_ids,
    (SELECT actor_names FROM event_actor_lists WHERE event_id = e.id) AS actor_names,
    e.summary,
    (SELECT count(*) FROM event_documents WHERE event_id = e.id) AS documents,
    (SELECT count(*) FROM claims WHERE event_id = e.id) AS claims,
    e.notes,
    e.latitude,
    e.longitude,
    e.point_precision AS geo_precision,
    -- datasette-cluster-map draws this popup in the browser, with its link as
    -- the href, on the pages that have no map of the site's own (a filtered
    -- event list, the places, a ready-made query), and it cannot be told how
    -- to link a row. So the link is relative to the database's address, where
    -- those pages and their JSON are (events/ID beside event_list): the
    -- browser resolves it under whatever base_url the site is served at,
    -- and the site resolves it the same way where it serves the popup
    -- elsewhere (loader/site/downloads.py's database_link). A link left out
    -- of the view, for the site to add, would need the plugin's JSON rows
    -- rewritten on their way to it, and would leave the view's readers
    -- (JSON, CSV, SQL) with no link.
    json_object(
        'title', e.title,
        'description', e.date_label || coalesce(' · ' || e.place_name, '') || ' — ' || e.summary,
        'link', 'events/' || e.id
    ) AS popup,
    e.geometry
FROM labelled AS e;

-- Who took part in each event, in what role.
CREATE VIEW event_participants AS
SELECT
    ea.event_id,
    e.date_label,
    e.start_date,
    e.title,
    ea.actor_id,
    a.name AS actor_name,
    a.kind AS actor_kind,
    ea.role,
    ea.note
FROM event_actors AS ea
JOIN actors AS a ON a.id = ea.actor_id
JOIN event_list AS e ON e.id = ea.event_id;

-- Every pair of actors who took part in the same event on the same side of
-- the table (not as its target or those affected by it), with the events.
-- Counted once at build time into actor_pair_counts (the database never
-- changes after it): computed on the fly, any page of it joined every
-- event's actors with each other first, and ran out of time past about
-- 100,000 events. The view reads the table, by its indexes.
CREATE TABLE actor_pair_counts (
    actor_a TEXT NOT NULL,
    actor_a_name TEXT NOT NULL,
    actor_b TEXT NOT NULL,
    actor_b_name TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_date TEXT NOT NULL,
    last_date TEXT NOT NULL,
    event_ids TEXT NOT NULL,  -- a JSON array, in date order
    PRIMARY KEY (actor_a, actor_b)) STRICT;
INSERT INTO actor_pair_counts
SELECT
    actor_a,
    (SELECT name FROM actors WHERE id = actor_a),
    actor_b,
    (SELECT name FROM actors WHERE id = actor_b),
    count(DISTINCT event_id),
    min(start_date),
    max(start_date),
    json_group_array(DISTINCT event_id)
FROM (
    -- Event by event, each event's actors read together from the key's index:
    -- twice as fast as the order SQLite picks, by actor.
    SELECT a.actor_id AS actor_a, b.actor_id AS actor_b, a.event_id, e.start_date
    FROM events AS e
    CROSS JOIN event_actors AS a ON a.event_id = e.id
    CROSS JOIN event_actors AS b ON b.event_id = a.event_id AND a.actor_id < b.actor_id
    WHERE a.role NOT IN ('target', 'affected') AND b.role NOT IN ('target', 'affected')
    ORDER BY 1, 2, e.start_date, e.end_date, a.event_id
)
GROUP BY actor_a, actor_b
ORDER BY actor_a, actor_b;
CREATE INDEX actor_pair_counts_events ON actor_pair_counts(events);
CREATE INDEX actor_pair_counts_actor_a_name ON actor_pair_counts(actor_a_name);
CREATE INDEX actor_pair_counts_actor_b_name ON actor_pair_counts(actor_b_name);
CREATE INDEX actor_pair_counts_actor_b ON actor_pair_counts(actor_b);
-- The table holds a pair once, the id that sorts first as actor_a; the view
-- lists it under each of its actors, so that filtering or faceting actor_a
-- (the pages' "Actor") finds every pair an actor is in, whichever column the
-- table holds it in. Each arm reads the table by its own indexes.
CREATE VIEW actor_pairs AS
SELECT actor_a, actor_a_name, actor_b, actor_b_name, events, first_date, last_date, event_ids
FROM actor_pair_counts
UNION ALL
SELECT actor_b, actor_b_name, actor_a, actor_a_name, events, first_date, last_date, event_ids
FROM actor_pair_counts;

-- The documents behind each event, and the claims made in them about it;
-- relays names whom a document has it from (the via of its citation or
-- claim), by name in the order given.
CREATE VIEW event_evidence AS
SELECT
    ed.event_id,
    'document' AS kind,
    d.id AS document_id,
    d.title AS document_title,
    d.outlet,
    d.published_date,
    dd.published_label,
    d.url,
    NULL AS claim_id,
    NULL AS claimant_id,
    NULL AS claimant_name,
    NULL AS stance,
    NULL AS statement,
    ed.note,
    ed.paragraphs,
    (SELECT group_concat(r.name, ', ') FROM json_each(ed.via) AS v JOIN actors AS r ON r.id = v.value) AS relays
FROM event_documents AS ed
JOIN documents AS d ON d.id = ed.document_id
JOIN document_dates AS dd ON dd.document_id = d.id
UNION ALL
SELECT
    c.event_id,
    'claim',
    d.id,
    d.title,
    d.outlet,
    d.published_date,
    dd.published_label,
    d.url,
    c.id,
    c.claimant_id,
    a.name,
    c.stance,
    c.statement,
    c.notes,
    c.paragraphs,
    (SELECT group_concat(r.name, ', ') FROM json_each(c.via) AS v JOIN actors AS r ON r.id = v.value)
FROM claims AS c
JOIN documents AS d ON d.id = c.document_id
JOIN document_dates AS dd ON dd.document_id = d.id
LEFT JOIN actors AS a ON a.id = c.claimant_id
WHERE c.event_id IS NOT NULL;

-- Every paragraph of a document that something is cited for, one row per
-- locator and use: what of which event it supports (the fields of a
-- citation, an actor's role, a claim) or the document's own date. A
-- reader holding the article checks it against the store in paragraph order.
CREATE VIEW document_citations AS
SELECT
    c.document_id,
    CAST(substr(j.value, 1, instr(j.value, ':') - 1) AS INTEGER) AS paragraph,
    j.value AS locator,
    c.kind,
    c.event_id,
    (SELECT title FROM events WHERE id = c.event_id) AS event_title,
    c.cited_for,
    c.claim_id
FROM (
    SELECT document_id, paragraphs, 'facts' AS kind, event_id,
           (SELECT group_concat(value, ', ') FROM json_each(supports)) AS cited_for, NULL AS claim_id
    FROM event_documents
    UNION ALL
    SELECT ead.document_id, ead.paragraphs, 'actor', ead.event_id,
           (SELECT name FROM actors WHERE id = ead.actor_id) || ' as ' || ead.role, NULL
    FROM event_actor_documents AS ead
    UNION ALL
    SELECT document_id, paragraphs, 'claim', event_id, statement, id FROM claims
    UNION ALL
    SELECT document_id, paragraphs, 'relation', from_event_id,
           replace(type, '_', ' ') || ' ' || (SELECT title FROM events WHERE id = to_event_id), NULL
    FROM event_relations
    UNION ALL
    SELECT id, date_paragraphs, 'date', NULL, 'its publication date', NULL FROM documents
) AS c
JOIN json_each(coalesce(c.paragraphs, '[]')) AS j
WHERE c.document_id IS NOT NULL;

-- Each document's publication date as a reader should take it: the printed
-- day, or the window it was inferred to, saying so.
CREATE VIEW document_dates AS
SELECT
    id AS document_id,
    title,
    outlet,
    coalesce(outlet, title) AS shown_as,
    date_basis,
    published_date,
    published_earliest,
    published_latest,
    CASE
        WHEN date_basis = 'printed' THEN coalesce(published_date, 'undated')
        WHEN published_earliest IS published_latest THEN published_earliest || ' (inferred)'
        WHEN published_latest IS NULL THEN 'on or after ' || published_earliest || ' (inferred; no later bound)'
        ELSE 'between ' || published_earliest || ' and ' || published_latest || ' (inferred)'
    END AS published_label,
    date_inference
FROM documents;

-- Which document supports which of an event's fields: a row per field a
-- cited document supports, and a row per actor role and document that names
-- that actor in that role. basis 'preview' marks what a document said ahead
-- of the event rather than after it; relays, whom the document has it from
-- (as in event_evidence).
CREATE VIEW event_provenance AS
SELECT
    ed.event_id,
    f.value AS field,
    NULL AS actor_id,
    NULL AS actor_name,
    NULL AS role,
    ed.document_id,
    dd.shown_as AS document,
    dd.published_label,
    ed.basis,
    ed.note,
    (SELECT group_concat(r.name, ', ') FROM json_each(ed.via) AS v JOIN actors AS r ON r.id = v.value) AS relays
FROM event_documents AS ed
JOIN json_each(ed.supports) AS f
JOIN document_dates AS dd ON dd.document_id = ed.document_id
UNION ALL
SELECT
    ea.event_id,
    'actors',
    ea.actor_id,
    a.name,
    ea.role,
    ead.document_id,
    dd.shown_as,
    dd.published_label,
    ead.basis,
    ea.note,
    (SELECT group_concat(r.name, ', ') FROM json_each(ead.via) AS v JOIN actors AS r ON r.id = v.value)
FROM event_actors AS ea
JOIN event_actor_documents AS ead
    ON ead.event_id = ea.event_id AND ead.actor_id = ea.actor_id AND ead.role = ea.role
JOIN actors AS a ON a.id = ea.actor_id
JOIN document_dates AS dd ON dd.document_id = ead.document_id;

-- Every claim that answers a dispute, with its question, its position, who
-- says it (the claimant, or else the document by outlet or title) and where.
CREATE VIEW disputed_claims AS
SELECT
    d.id AS dispute_id,
    d.question,
    d.status AS dispute_status,
    d.event_id,
    (SELECT date_label FROM event_list WHERE id = d.event_id) AS date_label,
    (SELECT title FROM events WHERE id = d.event_id) AS event_title,
    c.position,
    c.id AS claim_id,
    c.statement,
    c.stance,
    coalesce(a.name, dd.shown_as) AS said_by,
    c.claimant_id,
    c.document_id,
    dd.title AS document_title,
    dd.outlet,
    dd.published_label,
    c.notes,
    (SELECT group_concat(r.name, ', ') FROM json_each(c.via) AS v JOIN actors AS r ON r.id = v.value) AS relays
FROM disputes AS d
JOIN claims AS c ON c.dispute_id = d.id
JOIN document_dates AS dd ON dd.document_id = c.document_id
LEFT JOIN actors AS a ON a.id = c.claimant_id;

-- The disputes page: one row per answer to each question, grouped by
-- question, with the claims that give it and who gives them. Only claims
-- that answer the question appear.
CREATE VIEW dispute_positions AS
SELECT
    dispute_id,
    question,
    dispute_status,
    event_id,
    date_label,
    event_title,
    position,
    count(*) AS claims,
    group_concat(said_by, '; ') AS said_by,
    group_concat(statement, ' | ') AS statements,
    group_concat(stance, ', ') AS stances,
    group_concat(document_id, ', ') AS documents,
    json_group_array(claim_id) AS claim_ids
FROM (SELECT * FROM disputed_claims ORDER BY dispute_id, position, published_label, claim_id)
GROUP BY dispute_id, position;

-- One VEVENT per event for the iCalendar feed (plugins/calendar_feed.py reads
-- these column names). Events are whole days: DTEND is the day after end_date,
-- so an event known only to a month or a year spans all of it.
CREATE VIEW event_calendar AS
SELECT
    id || '@event-store' AS event_uid,
    title AS event_name,
    start_date AS event_dtstart,
    date(end_date, '+1 day') AS event_dtend,
    date_label || coalesce(' · ' || place_name, '') || char(10) || char(10) || summary
        || char(10) || char(10) || 'Status: ' || status || '. Event record: ' || id AS event_description,
    place_name AS event_location,
    latitude AS event_latitude,
    longitude AS event_longitude,
    id
FROM event_list;

-- Events per month by type, by actor and by place, for the overview page,
-- counted once at build time (the database never changes after it), so the
-- page reads a few hundred rows however many events there are. An event
-- counts in the month of the first day it can have happened; events dated
-- only to a year belong to no month and are left out, as on the timeline.
CREATE TABLE monthly_counts (
    dimension TEXT NOT NULL,  -- 'type', 'actor' or 'place'
    month TEXT NOT NULL,  -- YYYY-MM
    key TEXT NOT NULL,  -- the event type's code, the actor's or the place's id
    name TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (dimension, month, key)) STRICT;
INSERT INTO monthly_counts
SELECT 'type', substr(e.start_date, 1, 7), t.code, t.label, count(*)
FROM events AS e JOIN event_types AS t ON t.code = e.event_type
WHERE e.date_precision <> 'year'
GROUP BY 2, t.code
UNION ALL
SELECT 'actor', substr(e.start_date, 1, 7), a.id, a.name, count(DISTINCT e.id)
FROM events AS e
JOIN event_actors AS ea ON ea.event_id = e.id
JOIN actors AS a ON a.id = ea.actor_id
WHERE e.date_precision <> 'year'
GROUP BY 2, a.id
UNION ALL
SELECT 'place', substr(e.start_date, 1, 7), p.id, p.name, count(*)
FROM events AS e JOIN places AS p ON p.id = e.place_id
WHERE e.date_precision <> 'year'
GROUP BY 2, p.id
ORDER BY 1, 2, 3;

-- A name's months, with their counts in the index itself: the overview reads
-- its busiest names' squares, and a square's page its count, from the index
-- alone.
CREATE INDEX monthly_counts_key ON monthly_counts(dimension, key, month, events);

-- Each dimension's events a month, all its names together (an event with two
-- actors counts once for each), and each name's rank by its events in all
-- months: the overview draws the busiest names and sums the rest from these,
-- so it reads a few rows a month however many actors and places there are.
CREATE TABLE monthly_sums (
    dimension TEXT NOT NULL,
    month TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (dimension, month)) STRICT;
INSERT INTO monthly_sums
SELECT dimension, month, sum(events) FROM monthly_counts GROUP BY dimension, month ORDER BY 1, 2;
CREATE TABLE monthly_ranks (
    dimension TEXT NOT NULL,
    rank INTEGER NOT NULL,  -- 1 for the busiest; ties by name, then key
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (dimension, rank)) STRICT;
INSERT INTO monthly_ranks
SELECT dimension, row_number() OVER (PARTITION BY dimension ORDER BY sum(events) DESC, name, key), key, name, sum(events)
FROM monthly_counts GROUP BY dimension, key ORDER BY 1, 2;

-- Every month from the first to the last that monthly_counts has, empty ones
-- included, so that gaps in the record show as gaps, with its events. Months
-- are counted as whole numbers (year * 12 + month - 1), not stepped with
-- strftime's '+1 month', which SQLite 3.40 gets wrong for February of year
-- 300 (it stays there, and the step never ends): with whole numbers the span
-- ends at the last month, whatever the dates.
CREATE VIEW overview_months AS
WITH RECURSIVE
    ends(first, last) AS (
        SELECT substr(min(month), 1, 4) * 12 + substr(min(month), 6, 2) - 1,
               substr(max(month), 1, 4) * 12 + substr(max(month), 6, 2) - 1
        FROM monthly_sums WHERE dimension = 'type'),
    span(n) AS (
        SELECT first FROM ends WHERE first IS NOT NULL
        UNION ALL
        SELECT n + 1 FROM span WHERE n < (SELECT last FROM ends)),
    months(month) AS (SELECT printf('%04d-%02d', n / 12, n % 12 + 1) FROM span)
SELECT month,
       coalesce((SELECT events FROM monthly_sums WHERE dimension = 'type' AND month = months.month), 0) AS events
FROM months;

-- The dataset's own version as an Atom entry, which both changes feeds carry;
-- a build no release holds says so, and says when it holds uncommitted changes.
CREATE VIEW feed_version AS
SELECT
    'tag:event-store,2025:version/' || version || '/' || coalesce(built_from, sources_date) AS atom_id,
    coalesce(released, sources_date) || 'T00:00:00Z' AS atom_updated,
    'Dataset version ' || version || coalesce(', released ' || released, '')
        || CASE WHEN version = 'unreleased' THEN ': no release holds these records' ELSE '' END AS atom_title,
    CASE WHEN built_from LIKE '%-dirty'
         THEN 'Built from uncommitted changes to the sources (on top of commit '
              || substr(built_from, 1, length(built_from) - 6) || '), sources of ' || sources_date || '.'
         ELSE 'Built from the sources of ' || sources_date || coalesce(' at commit ' || built_from, '') || '.'
    END AS atom_content,
    'version' AS link_page,
    version,
    built_from
FROM dataset_release;

-- The changes feed, per commit: one Atom entry (the atom_ columns;
-- /events/event_feed.atom, plugins/atom_feeds.py) for each commit that added,
-- changed or removed an event, newest first, and one for the dataset's own
-- version, so the feed is never empty. A renamed event's history is under the
-- id it has now (loader/history.py), so every entry links a page that answers:
-- the event's, a withdrawn id's (410, with its replacement), or the history of
-- an event removed before any release published it.
CREATE VIEW event_feed AS
SELECT * FROM (
    SELECT
        'tag:event-store,2025:commit/' || h.commit_hash || '/' || h.record_id AS atom_id,
        h.committed AS atom_updated,
        CASE h.change WHEN 'added' THEN 'New event: ' WHEN 'changed' THEN 'Changed event: '
             ELSE 'Removed event: ' END || coalesce(e.title, h.record_id) AS atom_title,
        h.subject || CASE WHEN h.change = 'changed' THEN ' (changed: '
            || (SELECT group_concat(key, ', ') FROM json_each(h.fields)) || ')' ELSE '' END
            || coalesce(' Renamed from ' || json_extract(h.fields, '$.id.old') || '.', '')
            || ' Commit ' || h.commit_hash || '.' AS atom_content,
        CASE WHEN e.id IS NOT NULL OR w.id IS NOT NULL THEN 'event' ELSE 'history' END AS link_page,
        h.record_id AS event_id,
        h.change,
        h.commit_hash
    FROM record_history AS h
    LEFT JOIN events AS e ON e.id = h.record_id
    LEFT JOIN withdrawals AS w ON w.table_name = 'events' AND w.id = h.record_id
    WHERE h.table_name = 'events'
    UNION ALL
    SELECT atom_id, atom_updated, atom_title, atom_content, link_page, NULL, NULL, built_from FROM feed_version
)
ORDER BY atom_updated DESC, atom_id;

-- The changes feed, per release (/events/release_feed.atom): for each release,
-- one entry for each event it holds that the previous release did not (new),
-- held differently (changed) or that it no longer holds (removed), as the
-- commits placed in it say (each in the first release cut from a commit at or
-- after it), and one for the dataset's own version. An event that came and
-- went between two releases is in neither, so a release's new events are
-- the events it added, as its CHANGES.md counts them.
CREATE VIEW release_feed AS
WITH placed AS (
    SELECT
        h.record_id, h.change, h.subject, h.committed, h.rowid AS seq,
        (SELECT r.version FROM releases AS r WHERE r.committed >= h.committed
         ORDER BY r.committed, r.version LIMIT 1) AS version,
        lag(h.change) OVER (PARTITION BY h.record_id ORDER BY h.committed, h.rowid) AS change_before
    FROM record_history AS h
    WHERE h.table_name = 'events'
),
spans AS (
    SELECT
        version, record_id, subject,
        first_value(change_before) OVER span AS before_release,
        last_value(change) OVER span AS after_release
    FROM placed
    WHERE version IS NOT NULL
    WINDOW span AS (PARTITION BY record_id, version ORDER BY committed, seq
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
released AS (
    SELECT
        version, record_id,
        CASE WHEN coalesce(before_release, 'removed') = 'removed'
             THEN CASE WHEN after_release = 'removed' THEN NULL ELSE 'new' END
             WHEN after_release = 'removed' THEN 'removed' ELSE 'changed' END AS change,
        group_concat(subject, '; ') AS subjects
    FROM spans
    GROUP BY version, record_id
)
SELECT * FROM (
    SELECT
        'tag:event-store,2025:release/' || r.version || '/' || x.record_id AS atom_id,
        r.released || 'T00:00:00Z' AS atom_updated,
        'Release ' || r.version || ': ' || x.change || ' event: ' || coalesce(e.title, x.record_id) AS atom_title,
        'In release ' || r.version || ' (' || r.released || '): ' || x.subjects || '.' AS atom_content,
        CASE WHEN e.id IS NOT NULL OR w.id IS NOT NULL THEN 'event' ELSE 'history' END AS link_page,
        x.record_id AS event_id,
        r.version
    FROM released AS x
    JOIN releases AS r ON r.version = x.version
    LEFT JOIN events AS e ON e.id = x.record_id
    LEFT JOIN withdrawals AS w ON w.table_name = 'events' AND w.id = x.record_id
    WHERE x.change IS NOT NULL
    UNION ALL
    SELECT atom_id, atom_updated, atom_title, atom_content, link_page, NULL, version FROM feed_version
)
ORDER BY atom_updated DESC, atom_id;

-- Event relations and processes ----------------------------------------------
-- Each relation from both of its events, in words from the event whose page
-- shows it ("part of", "the fifth round of", "followed by", "announced by"),
-- with the other event's title, date in words and place. ordinal is a part's
-- number in words; a part of talks is a round, of anything else a part.
CREATE VIEW event_relation_list AS
WITH ordinals(words) AS (
    SELECT json_array('first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth',
                      'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth',
                      'seventeenth', 'eighteenth', 'nineteenth', 'twentieth')
),
ends AS (
    SELECT r.*, r.from_event_id AS event_id, r.to_event_id AS other_event_id, 'from' AS side
    FROM event_relations AS r
    UNION ALL
    SELECT r.*, r.to_event_id, r.from_event_id, 'to' FROM event_relations AS r
),
worded AS (
    SELECT
        x.*,
        CASE WHEN x.number BETWEEN 1 AND 20 THEN json_extract((SELECT words FROM ordinals), '$[' || (x.number - 1) || ']')
             WHEN x.number IS NOT NULL THEN x.number
                 || CASE WHEN x.number % 100 BETWEEN 11 AND 13 THEN 'th'
                         ELSE coalesce(json_extract('["st","nd","rd"]', '$[' || (x.number % 10 - 1) || ']'), 'th') END
        END AS ordinal,
        CASE WHEN (SELECT event_type FROM events WHERE id = x.from_event_id)
                  IN ('meeting', 'negotiation', 'summit', 'talks-resumed', 'talks-stalled')
             THEN 'round' ELSE 'part' END AS part_word
    FROM ends AS x
)
SELECT
    w.event_id,
    w.side,
    w.type,
    CASE w.side || ' ' || w.type
        WHEN 'from part_of' THEN CASE WHEN w.ordinal IS NULL THEN 'part of' ELSE 'the ' || w.ordinal || ' ' || w.part_word || ' of' END
        WHEN 'to part_of' THEN CASE WHEN w.ordinal IS NULL THEN 'has as a part' ELSE 'has as its ' || w.ordinal || ' ' || w.part_word END
        WHEN 'from follows' THEN 'follows'
        WHEN 'to follows' THEN 'followed by'
        WHEN 'from announces' THEN 'announces'
        WHEN 'to announces' THEN 'announced by'
        WHEN 'from responds_to' THEN 'responds to'
        WHEN 'to responds_to' THEN 'answered by'
        ELSE 'the same happening as'
    END AS relation,
    w.number,
    w.ordinal,
    w.other_event_id,
    o.title AS other_title,
    o.date_label AS other_date_label,
    o.start_date AS other_start_date,
    o.place_name AS other_place_name,
    w.document_id,
    (SELECT title FROM documents WHERE id = w.document_id) AS document_title,
    w.paragraphs,
    w.inferred,
    w.note
FROM worded AS w
JOIN event_list AS o ON o.id = w.other_event_id;

-- The parts of each process (an event that others are part_of), in order
-- of their dates, with their number as the cited document gives it, date in
-- words, place, participants and summary, for the process's page.
CREATE VIEW process_parts AS
SELECT
    r.to_event_id AS process_id,
    r.from_event_id AS part_id,
    r.number,
    l.ordinal,
    e.title,
    e.date_label,
    e.start_date,
    e.end_date,
    e.event_type,
    e.type,
    e.status,
    e.place_id,
    e.place_name,
    e.actor_ids,
    e.actor_names,
    e.summary,
    r.document_id,
    r.inferred
FROM event_relations AS r
JOIN event_list AS e ON e.id = r.from_event_id
JOIN event_relation_list AS l ON l.event_id = r.from_event_id AND l.side = 'from' AND l.type = 'part_of'
    AND l.other_event_id = r.to_event_id
WHERE r.type = 'part_of'
ORDER BY r.to_event_id, e.start_date, e.end_date, r.number, r.from_event_id;

-- The events each subject a reader can follow gathers (plugins/follow.py):
-- an actor's, a place's (and the places within it), an event type's, and a
-- process's (the process itself and its parts).
CREATE VIEW subject_events AS
WITH RECURSIVE within(place_id, subject_id) AS (
    SELECT id, id FROM places
    UNION
    SELECT w.place_id, p.parent_id FROM within AS w JOIN places AS p ON p.id = w.subject_id
    WHERE p.parent_id IS NOT NULL
)
SELECT 'actor' AS kind, actor_id AS subject_id, event_id FROM event_actors GROUP BY actor_id, event_id
UNION ALL
SELECT 'place', w.subject_id, e.id FROM within AS w JOIN events AS e ON e.place_id = w.place_id
UNION ALL
SELECT 'type', event_type, id FROM events
UNION ALL
SELECT 'process', to_event_id, from_event_id FROM event_relations WHERE type = 'part_of'
UNION ALL
SELECT DISTINCT 'process', to_event_id, to_event_id FROM event_relations WHERE type = 'part_of';

-- The entries of a followed subject's feed, per event: each commit that
-- added or changed it (from event_feed, saying what changed), or, for an
-- event with no history (an import, or a build outside a checkout), one
-- entry for the event as this version of the dataset records it. Like
-- event_feed's, an entry says which page it links (link_page: the event's,
-- its history, the version's), not the page's address: the site makes that
-- (loader/site/downloads.entry_path), under its base_url.
CREATE VIEW event_feed_entries AS
SELECT atom_id, atom_updated, atom_title, atom_content, link_page, event_id
FROM event_feed
WHERE event_id IS NOT NULL
UNION ALL
SELECT
    'tag:event-store,2025:recorded/' || e.id || '/' || v.version AS atom_id,
    coalesce(ev.origin_updated, v.sources_date || 'T00:00:00Z') AS atom_updated,
    'Event: ' || e.title AS atom_title,
    e.date_label || coalesce(', ' || e.place_name, '') || '. ' || e.summary
        || ' (As recorded in dataset version ' || v.version || '.)' AS atom_content,
    'event' AS link_page,
    e.id AS event_id
FROM event_list AS e
JOIN events AS ev ON ev.id = e.id
CROSS JOIN dataset_release AS v
WHERE NOT EXISTS (SELECT 1 FROM record_history AS h WHERE h.table_name = 'events' AND h.record_id = e.id);

-- Precomputed for reading at scale -------------------------------------------
-- The database never changes once built, so what every reader's first view of
-- a page would count again is counted once, by the build.

-- The facet counts of every unfiltered table and view page, for the facets
-- metadata.yml configures, counted by loader/facet_counts.py exactly as
-- Datasette's column, array and date facets count them; plugins/facet_counts.py
-- answers those facets from here. An unfiltered page keeps every value, so
-- any _facet_size is served. For large tables and views the pages one facet
-- click away are counted too, for each facet whose clicks an index answers:
-- those of its 30 most frequent values (the ones the unfiltered page lists)
-- that hold at least 1% of the rows, as the filter, with the 31 most frequent
-- values of every facet on that page (as many as Datasette's default facet
-- size asks). So are the pages the overview's squares link (loader/overview.py),
-- each a name's events of a period, and those of its bar of all events.
CREATE TABLE facet_counts (
    source TEXT NOT NULL,  -- the table or view
    -- The facet value the page is filtered by, or '' for the unfiltered page.
    filter_type TEXT NOT NULL DEFAULT '',
    filter_facet TEXT NOT NULL DEFAULT '',
    filter_value ANY NOT NULL DEFAULT '',
    -- An overview square's period (YYYY or YYYY-MM): the page holds the
    -- events of the filter above (or all of them) that began in it and are
    -- dated to more than a year; '' for any other page.
    filter_period TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,  -- Datasette's facet type: column, array or date
    facet TEXT NOT NULL,  -- the column
    value ANY NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (source, filter_type, filter_facet, filter_value, filter_period, type, facet, value)
) STRICT, WITHOUT ROWID;
-- The order Datasette lists a facet's values in: most frequent first.
CREATE INDEX facet_counts_order
    ON facet_counts(source, filter_type, filter_facet, filter_value, filter_period, type, facet, count DESC, value);

-- The map of the events, clustered on the server: for each H3 resolution
-- (0, about 1,100 km across, to 5, about 17 km), every hexagonal cell that
-- holds an event's place, with how many events and places it holds and their
-- centre weighted by events. Filled by loader/map_cells.py; the event list's
-- map (plugins/server_map.py) draws the cells of the resolution that suits its
-- zoom, then at the closest zooms the places themselves, so a million events
-- are a few hundred markers at any zoom.
CREATE TABLE map_cells (
    resolution INTEGER NOT NULL,
    cell TEXT NOT NULL,  -- the H3 cell's index
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    events INTEGER NOT NULL,
    places INTEGER NOT NULL,
    place_id TEXT REFERENCES places(id),  -- the place, when the cell holds only one
    PRIMARY KEY (resolution, cell)) STRICT, WITHOUT ROWID;
CREATE INDEX map_cells_position ON map_cells(resolution, latitude, longitude);

-- What loader/reconcile.py did with each imported place and actor that it
-- joined to a curated one, or that it kept apart although a name matched:
-- the reconciliation report.
CREATE TABLE reconciliation (
    kind TEXT NOT NULL,  -- place or actor
    imported_id TEXT NOT NULL,  -- the id the import gave it (gone from places or actors once joined)
    name TEXT NOT NULL,  -- as the origin writes it
    curated_id TEXT NOT NULL,  -- the curated record it was joined to or kept apart from
    how TEXT NOT NULL,  -- geonames_id, name, alias, override; or apart: too far, apart: no point to compare, apart: override
    distance_km REAL,  -- between the two points, for places that have them
    events INTEGER NOT NULL,  -- the imported events that named it
    PRIMARY KEY (kind, imported_id, curated_id)) STRICT;
