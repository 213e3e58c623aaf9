"""Stage 9, viz: HTML reports and charts (``--format html``, ``--plot``).

- ``registry``: report kind -> the module that draws it (its page and main chart);
- ``<kind>_page`` / ``<kind>_charts``: one report kind's page and its charts;
- ``page`` and ``html``: a page as data, and as one self-contained HTML file;
- ``figure``, ``draw``, ``colors``, ``style``: matplotlib set up once, shared chart
  pieces, one colour per layer type, the page's CSS;
- ``pareto``: exact Pareto fronts; ``plot``: ``--plot FILE.svg|png``.

Importing this package imports nothing heavy: matplotlib is imported inside the
functions that draw (``mnprof.viz.figure.pyplot``).
"""
