"""Measure the bulk import and the site at scale against raw SQLite and sqlite-utils."""
