"""Writing the database: the records and imports, the history and version
they come from, and what the build counts ahead for the site (facet counts,
map cells), replaced atomically so that no reader sees half a file.
"""
