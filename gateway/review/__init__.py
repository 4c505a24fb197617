"""Review pages for agency staff under ``/review/`` (server-rendered, Jinja2)."""
