"""Stage 1, core: what every other stage may use and nothing here depends on.

Errors and source locations, the version, strict value checks and bounds, units,
safe YAML reading, bounded file input and atomic file output, table rendering,
the names of the JSON contracts, the progress callback type. No module here
imports another stage of mnprof.
"""
