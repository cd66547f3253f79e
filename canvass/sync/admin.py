"""Organizer screen of the knocks that came back from the phones (read-only)."""

from __future__ import annotations

from django.contrib import admin

from canvass.sync.models import ContactAttempt
from fieldops.admin_scoping import OrganizationScopedAdmin, scoped_filter


@admin.register(ContactAttempt)
class ContactAttemptAdmin(OrganizationScopedAdmin):
    """Knocks come from the phones and are append-only: this screen only reads."""

    view_only = True
    list_display = (
        "recorded_at",
        "canvasser",
        "door",
        "result_code",
        "support_level",
        "off_list",
        "far_from_door",
        "too_fast",
    )
    list_filter = (
        scoped_filter("campaign"),
        scoped_filter("result_code"),
        "off_list",
        "far_from_door",
        "too_fast",
    )
    search_fields = ("=canvasser__username", "door__street_name", "=door__number")
    date_hierarchy = "corrected_at"
    list_select_related = ("canvasser", "door", "result_code")
    show_full_result_count = False
