"""Large files of events from elsewhere (ACLED, the store's own columns),
streamed row by row into the database a build is writing, and joined to the
curated records they name.

Imports share the value rules of records (loader/rules.py) but not their
files: a row is never held with the others, so this layer stands beside
records, below the build that runs it.
"""
