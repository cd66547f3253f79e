"""The models of field work, one module per capability (canvass/<capability>/models.py).

All of them belong to the one Django app `canvass` (its app label, tables and
migrations): this module imports them so that Django finds them and so that
`from canvass.models import X` works for every model.
"""

from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.field.models import Assignment, AssignmentCanvasser, Shift, ShiftSignup
from canvass.stats.models import StatsDay, StatsDirtyDay, StatsDoor, StatsKind, StatsQueue
from canvass.sync.models import ContactAttempt, HeldKnock
from canvass.turfs.models import Turf, TurfCutJob, TurfDoor

# The change log moved to the core app (fieldops/changelog.py; the tables kept
# their canvass_ names). Still importable from here for code written before.
from fieldops.models import SyncChange, SyncCounter

__all__ = [
    "Assignment",
    "AssignmentCanvasser",
    "Campaign",
    "ContactAttempt",
    "HeldKnock",
    "ResultCode",
    "Shift",
    "ShiftSignup",
    "StatsDay",
    "StatsDirtyDay",
    "StatsDoor",
    "StatsKind",
    "StatsQueue",
    "SurveyOption",
    "SurveyQuestion",
    "SyncChange",
    "SyncCounter",
    "Turf",
    "TurfCutJob",
    "TurfDoor",
]
