"""The monitoring dashboard: HTML pages with inline SVG charts, a JSON API, ``/metrics``."""
