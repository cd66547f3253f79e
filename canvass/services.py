"""Old import path, kept only for tests/browser/ and benchmarks/volunteer_app.py (owned by the
volunteer-app work) until their imports move to canvass.campaigns.services and
canvass.field.services. Do not import from here: delete this module once nothing does."""

from canvass.campaigns.services import campaign_create_or_update, script_replace
from canvass.field.services import assignment_create, assignment_end, shift_create

__all__ = ["assignment_create", "assignment_end", "campaign_create_or_update", "script_replace", "shift_create"]
