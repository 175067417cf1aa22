"""``chipwar review``: a static site to read the annotated corpus, offline, from a checkout or a release.

``lanes.py`` (the text cut at span boundaries, spans given lanes), ``documents.py`` (what one
document's page shows), ``compare.py`` (sets compared on one document), ``site.py`` (the site
written whole over workers), ``templates/`` (Jinja2, autoescaped) and ``static/`` (CSS and JS
copied beside the pages). Needs the ``review`` extra (Jinja2, matplotlib).
"""
