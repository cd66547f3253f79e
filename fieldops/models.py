"""Organizations, memberships and the audit log.

Every row of fieldops belongs to one organization (a chapter); access checks in
fieldops/access.py decide what a user may see from their membership.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from fieldops.env import is_timezone


def char_max_length(model: type[models.Model], name: str) -> int:
    """The max_length of a model's CharField, for checks made before the database's."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")
    return field.max_length


def validate_timezone(value: str) -> None:
    if not is_timezone(value):
        raise ValidationError(f"{value!r} is not a time zone; use an IANA name such as America/Los_Angeles.")


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64,
        default="America/Los_Angeles",
        validators=[validate_timezone],
        help_text="All times shown to this organization's members use this zone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ORGANIZER = "organizer", "Organizer"
    TEAM_LEAD = "team_lead", "Team lead"
    CANVASSER = "canvasser", "Canvasser"


class Membership(models.Model):
    """A user's place in one organization.

    A user belongs to at most one organization: volunteers who help two
    chapters get two logins. This keeps every access check a single lookup and
    makes a cross-organization leak through a forgotten filter impossible.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CANVASSER)
    is_active = models.BooleanField(default=True)
    phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user__username"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class AuditLogEntry(models.Model):
    """Who did what to which data, append-only.

    Reads of voter PII (walk lists) and every export are written here too.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class DeviceToken(models.Model):
    """A login of one phone: the API token it sends as `Authorization: Token <key>`.

    Only the SHA-256 of the key is stored: a copy of the database does not let
    anyone act as a canvasser. One live token per user and device; logging in
    again from the same device replaces it. A revoked or expired token stops
    working at the next request (every request looks the hash up; nothing
    caches it).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="device_tokens")
    # hex SHA-256 of the whole key; the key has 256 random bits, so no salt or slow hash is needed.
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the key, so a person can tell tokens apart ("fo_Ab3d…").
    key_prefix = models.CharField(max_length=12)
    device_id = models.CharField(max_length=128, help_text="Chosen by the phone; stable across logins.")
    device_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # Written at most every few minutes (fieldops/tokens.py), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "device_id"],
                condition=Q(revoked_at__isnull=True),
                name="device_token_one_live_per_device",
            ),
        ]
        indexes = [models.Index(fields=["organization", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} on {self.device_name or self.device_id}"


class ThrottleCounter(models.Model):
    """Login attempts of one key (username+IP, or IP) in one time window, when there
    is no Redis (fieldops/logins.py LoginThrottle).

    A table of our own rather than Django's database cache: that cache's incr is
    a read then a write, and 20 simultaneous logins against a limit of 5 all got
    through (measured on PostgreSQL). Here the count is raised by an UPDATE that
    locks the row, so the limit holds. Expired rows are deleted as logins come.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


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
    # Entries up to this number were pruned (fieldops.changelog.sync_changes_prune):
    # a cursor below it has missed changes the log no longer holds.
    pruned_seq = models.BigIntegerField(default=0)

    class Meta:
        # Made by the canvass app before the change log moved here: same table, no data migration.
        db_table = "canvass_synccounter"

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
    # A knock's phone (the push's device_id): a pull skips the asking phone's own knocks by it.
    device_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "canvass_syncchange"
        ordering = ["organization", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="sync_change_seq_unique_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}#{self.seq} {self.kind} {self.object_id}"
