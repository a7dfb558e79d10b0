"""Reports and figures: HTML, Markdown and JSON renderers, and the topology map.

Kept import-light: matplotlib and the other heavy libraries are imported inside the functions
that draw, never when this package is imported. The topology map lives in
:mod:`georesil.report.topology_map` (``draw_topology_map``).
"""
