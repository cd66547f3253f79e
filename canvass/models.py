"""Field work: campaigns, scripts, result codes, turfs, shifts, assignments, knocks.

Turf rows live here, not in turf/: a turf is cut from a campaign's universe,
so it points at a Campaign, and turf/ may not import canvass/. The geometry
and the cutting and walk-order algorithms stay in turf/ as pure modules.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fieldops.models import Organization
from turf.models import District, Door, Person


class Campaign(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target_districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="campaigns",
        help_text="The campaign's universe is the doors in these districts.",
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    goal_doors = models.PositiveIntegerField(default=0, help_text="Doors to knock.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="campaign_slug_unique_per_org"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    """One question of a campaign's script; answered by choosing one option."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    text_es = models.CharField(
        "text (Spanish)", max_length=500, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    is_active = models.BooleanField(default=True)
    van_survey_question_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The VAN survey question id this maps to, for exports."
    )

    class Meta:
        ordering = ["campaign", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyOption(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=200)
    label_es = models.CharField(
        "label (Spanish)", max_length=200, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    van_survey_response_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The VAN survey response id this maps to, for exports."
    )

    class Meta:
        ordering = ["question", "position", "id"]

    def __str__(self) -> str:
        return self.label


class ResultCode(models.Model):
    """What happened at a door. Each organization has the standard set
    (canvass/result_codes.py) and maps each code to its VAN result code id."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="result_codes")
    code = models.SlugField(max_length=32)
    label = models.CharField(max_length=80)
    label_es = models.CharField(
        "label (Spanish)", max_length=80, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_contact = models.BooleanField(default=False, help_text="Someone answered the door.")
    is_refusal = models.BooleanField(default=False)
    # A door with a final result (moved, deceased, hostile…) is not knocked again.
    is_final = models.BooleanField(default=False)
    van_result_code_id = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="result_code_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.label


class Turf(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="turfs")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="turfs")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turfs",
        help_text="The district the turf was cut within, if any.",
    )
    polygon = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry (WGS84).")
    doors = models.ManyToManyField(Door, through="TurfDoor", related_name="turfs")
    # Metrics, stored when the turf is cut or its walk order is computed.
    door_count = models.PositiveIntegerField(default=0)
    building_count = models.PositiveIntegerField(default=0)  # distinct Door.building_key among its doors
    person_count = models.PositiveIntegerField(default=0)
    walk_distance_m = models.FloatField(null=True, blank=True)
    walk_minutes = models.FloatField(null=True, blank=True)
    compactness = models.FloatField(null=True, blank=True, help_text="Polsby-Popper of the hull, 0..1.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="turf_name_unique_per_campaign"),
        ]

    def __str__(self) -> str:
        return self.name


class TurfDoor(models.Model):
    """A door of a turf, at its place in the walk order."""

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="turf_doors")
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="turf_doors")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["turf", "position"]
        constraints = [
            models.UniqueConstraint(fields=["turf", "door"], name="turf_door_unique"),
            models.UniqueConstraint(fields=["turf", "position"], name="turf_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.turf_id} #{self.position}: door {self.door_id}"


class TurfCutJob(models.Model):
    """One run of the automatic turf cutter, started from the admin, the API or
    the command. A django-q2 worker runs it; the organizer watches `done` of
    `total` and reads the summary when it ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="turf_cut_jobs")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="turf_cut_jobs")
    target_doors = models.PositiveIntegerField()
    layer = models.ForeignKey(
        "turf.DistrictLayer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="No turf crosses a boundary of this layer; empty: the campaign's target districts.",
    )
    only_unknocked = models.BooleanField(default=False)
    replace = models.BooleanField(
        default=False, help_text="Archive the campaign's active turfs that nobody is assigned to, then cut."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(target_doors__gte=1), name="turf_cut_target_positive")]

    def __str__(self) -> str:
        return f"Cut of {self.campaign} into turfs of {self.target_doors} doors ({self.status})"


class Shift(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="shifts")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location_name = models.CharField(max_length=200, blank=True, help_text="The staging place.")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    capacity = models.PositiveIntegerField(default=10)
    signup_count = models.PositiveIntegerField(
        default=0, help_text="Places taken; kept by conditional update so the last place goes once."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(signup_count__lte=F("capacity")), name="shift_not_overfilled"),
        ]
        indexes = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return self.name


class ShiftSignup(models.Model):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", "Signed up"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift_signups")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SIGNED_UP)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lng = models.FloatField(null=True, blank=True)
    check_in_distance_m = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shift", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "user"], name="shift_signup_unique"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                name="signup_checkout_after_checkin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} for {self.shift_id} ({self.status})"


class Assignment(models.Model):
    """A turf given to one or more canvassers for a shift or a time window."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assignments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    canvassers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AssignmentCanvasser", related_name="canvass_assignments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Set when an organizer ends it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.turf} from {self.starts_at:%Y-%m-%d %H:%M}"


class AssignmentCanvasser(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "user"], name="assignment_canvasser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.assignment_id}"


class ContactAttempt(models.Model):
    """One knock at one door by one canvasser at one moment. Append-only.

    The primary key is the UUID the phone made, so a retried upload can never
    store the same knock twice.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="attempts")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attempts")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="attempts")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts")
    canvasser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    result_code = models.ForeignKey(ResultCode, on_delete=models.PROTECT, related_name="attempts")
    support_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 strong support … 5 strong oppose."
    )
    answers = models.JSONField(default=dict, blank=True, help_text="{question id: option id}")
    notes = models.TextField(blank=True)
    device_id = models.CharField(max_length=128, blank=True)
    recorded_at = models.DateTimeField(help_text="When the phone says the knock happened.")
    received_at = models.DateTimeField(help_text="When the server stored it.")
    corrected_at = models.DateTimeField(help_text="recorded_at corrected for the phone's clock skew.")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True, help_text="From the phone's location to the door.")
    off_list = models.BooleanField(default=False, help_text="The door is not in the canvasser's assigned turfs.")
    far_from_door = models.BooleanField(default=False)
    too_fast = models.BooleanField(default=False)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Digest of what the phone sent, to tell a duplicate from a conflict.",
    )
    # Two copies of one push can race (two web processes): both INSERT … ON
    # CONFLICT DO NOTHING, one row is stored, and each request reads the row
    # back; the request whose push_id is on the row is the one that stored it
    # ("accepted"), the other answers "duplicate". No RETURNING needed, so it
    # works alike on SQLite and PostgreSQL.
    push_id = models.UUIDField(null=True, blank=True, editable=False, help_text="The push request that stored it.")

    class Meta:
        ordering = ["-corrected_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(support_level__isnull=True) | Q(support_level__gte=1, support_level__lte=5),
                name="attempt_support_level_range",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90), name="attempt_lat_range"
            ),
            models.CheckConstraint(
                condition=Q(lng__isnull=True) | Q(lng__gte=-180, lng__lte=180), name="attempt_lng_range"
            ),
            models.CheckConstraint(
                condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gte=0),
                name="attempt_accuracy_nonnegative",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "door"]),
            # The stats recompute one campaign's local day at a time (docs/stats.md):
            # without it each recompute scanned every knock (2.5 s at a million).
            models.Index(fields=["campaign", "corrected_at"]),
            models.Index(fields=["canvasser", "corrected_at"]),
            models.Index(fields=["organization", "received_at"]),
            # Pull sends the attempts at a canvasser's doors; the (campaign,
            # door) index does not serve a lookup by door alone.
            models.Index(fields=["door", "corrected_at"], name="attempt_door_corrected"),
        ]

    def __str__(self) -> str:
        return f"{self.result_code_id} at door {self.door_id}"


class SyncCounter(models.Model):
    """The last sync sequence number handed out in one organization.

    Writers take this row's lock (UPDATE … last_seq + n) as the last step of
    their transaction and hold it until they commit, so sequence numbers
    become visible in the order they were handed out: a reader that sees
    sequence n has already been able to see every number below it. See
    docs/sync-protocol.md, "The cursor".
    """

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="sync_counter"
    )
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_seq}"


class SyncChange(models.Model):
    """One entry of an organization's change log, read by phones on pull.

    An entry says "look at this object again"; pull sends the object as it is
    at pull time (or a tombstone), so an entry carries ids, never content.
    """

    class Kind(models.TextChoices):
        ATTEMPT = "attempt", "Contact attempt"  # object_id: attempt uuid; door_id set
        ASSIGNMENT = "assignment", "Assignment"  # created, edited, ended, canvasser added or removed
        TURF = "turf", "Turf doors"  # a turf's doors or walk order changed; object_id: turf id
        DOOR = "door", "Door"  # object_id: door id; door_id set
        PERSON = "person", "Person"  # object_id: person id; door_id set

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_changes")
    seq = models.BigIntegerField(help_text="Position in the organization's log; the pull cursor.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.CharField(max_length=64)
    # Plain ids, no foreign keys: the log outlives what it names (a deleted
    # door still needs its tombstone), and it is written on every push.
    door_id = models.BigIntegerField(null=True, blank=True)
    assignment_id = models.BigIntegerField(null=True, blank=True)
    turf_id = models.BigIntegerField(null=True, blank=True)
    # For an assignment entry: the canvasser added or removed, who must hear
    # of it even when no longer a member. For an attempt: its canvasser.
    user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="sync_change_seq_unique_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}#{self.seq} {self.kind} {self.object_id}"


# --- Stats: what the aggregation tasks compute from the knocks (docs/stats.md) ---


class StatsKind(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign"
    DISTRICT = "district", "District"
    TURF = "turf", "Turf"
    CANVASSER = "canvasser", "Canvasser"


class StatsDay(models.Model):
    """The knocks of one campaign on one day (the org's local day of
    corrected_at), for one campaign, district, turf or canvasser.

    Derived data, always recomputed whole for a (campaign, day) from the
    attempts (canvass/stats_services.py), never incremented: re-running a
    recompute writes the same row. `key_id` is the district, turf or user id
    (the campaign's id for kind=campaign); no foreign key, so one table holds
    every kind and a rebuild is one delete and one bulk insert.

    Counts of attempts (attempts, contacts, refusals, support levels,
    literature drops, answers) add up over days. `doors_knocked` is the
    distinct doors knocked that day: it does not add up over days (a door
    knocked Monday and Tuesday counts on both). `new_doors` counts the doors
    whose first knock in the campaign was that day: its sum over days is the
    number of distinct doors ever knocked.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=StatsKind.choices)
    key_id = models.BigIntegerField()
    attempts = models.PositiveIntegerField(default=0)
    doors_knocked = models.PositiveIntegerField(default=0)
    new_doors = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0, help_text="Attempts where someone answered the door.")
    refusals = models.PositiveIntegerField(default=0)
    support_1 = models.PositiveIntegerField(default=0)
    support_2 = models.PositiveIntegerField(default=0)
    support_3 = models.PositiveIntegerField(default=0)
    support_4 = models.PositiveIntegerField(default=0)
    support_5 = models.PositiveIntegerField(default=0)
    literature_drops = models.PositiveIntegerField(default=0)
    answers = models.JSONField(default=dict, blank=True, help_text="{survey option id: attempts that chose it}")

    class Meta:
        ordering = ["campaign", "kind", "key_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind", "key_id", "day"], name="stats_day_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "day"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key_id} on {self.day}"


class StatsDoor(models.Model):
    """The local day of a door's first knock in a campaign: what `new_doors` counts.

    Knocks are append-only, so the first day can only move earlier, and it
    does when a phone syncs an older knock late; the day it moved from is
    then recomputed too.
    """

    pk = models.CompositePrimaryKey("campaign", "door")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    first_day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "first_day"])]

    def __str__(self) -> str:
        return f"door {self.door_id} first knocked {self.first_day}"


class StatsDirtyDay(models.Model):
    """A (campaign, day) whose stats must be recomputed: marked after a push
    commits (INSERT … ON CONFLICT DO NOTHING, so a burst of pushes leaves one
    row), claimed and deleted by the worker that recomputes it, in the same
    transaction: a worker that dies leaves the row for the next one."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="stats_dirty_day_unique")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} on {self.day}"


class StatsQueue(models.Model):
    """One row (id 1): whether an aggregation task is already queued, and how
    far the every-minute sweep has looked at received knocks."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    task_queued_at = models.DateTimeField(null=True, blank=True)
    swept_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"stats queue (task queued at {self.task_queued_at})"
