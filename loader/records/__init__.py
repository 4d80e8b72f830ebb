"""The curated records of sources/: reading them, and every check that makes
them valid before anything is written.

Records are what people edit, so this layer is the one that speaks to them:
every problem at its FILE:LINE, all of them in one pass. It knows nothing of
imports, builds, releases or the site, which all read records through it.
"""
