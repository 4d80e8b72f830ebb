"""Cutting a citable release from a build: the files other tools read
(CSV, Parquet, GeoJSON, a Data Package, a citation) and what changed since
the release before.
"""
