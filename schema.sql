-- The event store's schema: the one place where its tables, constraints,
-- indexes, views and full-text indexes are declared.
--
-- The loader reads this file twice over. The part above the "@after-load"
-- marker creates the tables; the loader also inspects those tables to learn
-- each record's fields, types and references, and tries every record against
-- them, so a CHECK that fails here is what a curator sees as the error.
-- A CHECK's constraint name is therefore written as "<field>: <message>".
-- The part below the marker (indexes, full-text indexes, views) runs once the
-- rows are in, which is both faster and gives identical files for identical
-- sources.

CREATE TABLE event_types (
    code TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "code: must be a slug of lowercase letters, digits and hyphens"
        CHECK (code <> '' AND code NOT GLOB '*[^a-z0-9-]*' AND code NOT GLOB '-*'),
    label TEXT NOT NULL
        CONSTRAINT "label: must not be blank" CHECK (trim(label) <> ''),
    description TEXT NOT NULL
        CONSTRAINT "description: must not be blank" CHECK (trim(description) <> ''),
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
        CONSTRAINT "title: must not be blank" CHECK (trim(title) <> ''),
    outlet TEXT,
    author TEXT,
    published_date TEXT
        CONSTRAINT "published_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (published_date IS date(published_date, '+0 days')),
    dateline TEXT,
    url TEXT
        CONSTRAINT "url: must start with http:// or https://"
        CHECK (url LIKE 'http://_%' OR url LIKE 'https://_%'),
    archive_ref TEXT UNIQUE,
    language TEXT NOT NULL DEFAULT 'en'
        CONSTRAINT "language: must be an ISO 639-1 code such as en, ar or he"
        CHECK (length(language) = 2 AND language NOT GLOB '*[^a-z]*'),
    notes TEXT
) STRICT;

CREATE TABLE places (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    name TEXT NOT NULL
        CONSTRAINT "name: must not be blank" CHECK (trim(name) <> ''),
    -- Every other spelling, transliteration and script, as a JSON array of strings.
    aliases TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "aliases: must be a list of strings"
        CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
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
        CONSTRAINT "name: must not be blank" CHECK (trim(name) <> ''),
    aliases TEXT NOT NULL DEFAULT '[]'
        CONSTRAINT "aliases: must be a list of strings"
        CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
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

CREATE TABLE events (
    -- A stable slug: never reused, never renamed once published.
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    title TEXT NOT NULL
        CONSTRAINT "title: must not be blank" CHECK (trim(title) <> ''),
    summary TEXT NOT NULL
        CONSTRAINT "summary: must not be blank" CHECK (trim(summary) <> ''),
    event_type TEXT NOT NULL REFERENCES event_types(code),
    -- Earliest and latest possible day, as UCDP records them.
    start_date TEXT NOT NULL
        CONSTRAINT "start_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (start_date IS date(start_date, '+0 days')),
    end_date TEXT NOT NULL
        CONSTRAINT "end_date: must be a real calendar date written YYYY-MM-DD"
        CHECK (end_date IS date(end_date, '+0 days')),
    date_precision TEXT NOT NULL
        CONSTRAINT "date_precision: must be one of day, week, month, year"
        CHECK (date_precision IN ('day', 'week', 'month', 'year')),
    place_id TEXT REFERENCES places(id),
    status TEXT NOT NULL DEFAULT 'reported'
        CONSTRAINT "status: must be one of reported, confirmed, disputed, planned"
        CHECK (status IN ('reported', 'confirmed', 'disputed', 'planned')),
    notes TEXT,
    CONSTRAINT "place_id: an event with no place must say why in notes"
        CHECK (place_id IS NOT NULL OR trim(notes) <> ''),
    CONSTRAINT "end_date: must not be before start_date" CHECK (julianday(end_date) >= julianday(start_date)),
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
    PRIMARY KEY (event_id, actor_id, role)
) STRICT;

CREATE TABLE event_documents (
    event_id TEXT NOT NULL REFERENCES events(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    -- What the document supports about the event.
    note TEXT,
    PRIMARY KEY (event_id, document_id)
) STRICT;

CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL
        CONSTRAINT "id: must be a slug of lowercase letters, digits and hyphens"
        CHECK (id <> '' AND id NOT GLOB '*[^a-z0-9-]*' AND id NOT GLOB '-*'),
    event_id TEXT REFERENCES events(id),
    document_id TEXT NOT NULL REFERENCES documents(id),
    -- Who asserts it; NULL when the document asserts it in its own voice.
    claimant_id TEXT REFERENCES actors(id),
    statement TEXT NOT NULL
        CONSTRAINT "statement: must not be blank" CHECK (trim(statement) <> ''),
    stance TEXT NOT NULL
        CONSTRAINT "stance: must be one of asserts, denies, disputes, confirms, qualifies"
        CHECK (stance IN ('asserts', 'denies', 'disputes', 'confirms', 'qualifies')),
    notes TEXT
) STRICT;

-- @after-load ---------------------------------------------------------------

-- An index on every foreign key and every column people facet or sort by.
CREATE INDEX places_parent_id ON places(parent_id);
CREATE INDEX places_kind ON places(kind);
CREATE INDEX places_country_code ON places(country_code);
CREATE INDEX actors_parent_id ON actors(parent_id);
CREATE INDEX actors_kind ON actors(kind);
CREATE INDEX actors_country_code ON actors(country_code);
CREATE INDEX events_event_type ON events(event_type);
CREATE INDEX events_place_id ON events(place_id);
CREATE INDEX events_status ON events(status);
CREATE INDEX events_date_precision ON events(date_precision);
CREATE INDEX events_start_date ON events(start_date, end_date);
CREATE INDEX event_actors_actor_id ON event_actors(actor_id);
CREATE INDEX event_actors_role ON event_actors(role);
CREATE INDEX event_documents_document_id ON event_documents(document_id);
CREATE INDEX claims_event_id ON claims(event_id);
CREATE INDEX claims_document_id ON claims(document_id);
CREATE INDEX claims_claimant_id ON claims(claimant_id);
CREATE INDEX claims_stance ON claims(stance);

-- Full-text indexes over the rows' own text. Names and aliases are indexed
-- together, so a search for any spelling ("Shaibani", "Suwayda") finds the row.
-- Diacritics are folded so that "Suwaydā" and "Suwayda" match alike.
CREATE VIRTUAL TABLE events_fts USING fts5(
    title, summary, content="events", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE actors_fts USING fts5(
    name, aliases, description, content="actors", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE places_fts USING fts5(
    name, aliases, content="places", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE claims_fts USING fts5(
    statement, content="claims", tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE documents_fts USING fts5(
    title, outlet, author, content="documents", tokenize="unicode61 remove_diacritics 2");
INSERT INTO events_fts(events_fts) VALUES ('rebuild');
INSERT INTO actors_fts(actors_fts) VALUES ('rebuild');
INSERT INTO places_fts(places_fts) VALUES ('rebuild');
INSERT INTO claims_fts(claims_fts) VALUES ('rebuild');
INSERT INTO documents_fts(documents_fts) VALUES ('rebuild');
