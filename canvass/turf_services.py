"""Old import path, kept only for benchmarks/volunteer_app.py (owned by the volunteer-app work)
until its import moves to canvass.turfs.services. Do not import from here: delete this module
once nothing does."""

from canvass.turfs.services import turf_create_from_polygon

__all__ = ["turf_create_from_polygon"]
