"""Organizer screens of field work: shifts with their sign-ups, assignments.

Every write calls the service the API calls (canvass/field/services.py), with
its checks, audit entry and change-log entry; a refusal is shown on the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction

from canvass.access import assignments_for_user, shifts_for_user
from canvass.field import services
from canvass.field.models import Assignment, AssignmentCanvasser, Shift, ShiftSignup
from fieldops.admin_scoping import OrganizationScopedAdmin, ScopedTabularInline, new_row_organization, scoped_filter


class ShiftSignupInline(ScopedTabularInline):
    """Sign-ups come through the API, which keeps signup_count and the capacity true."""

    model = ShiftSignup
    view_only = True
    fields = ("user", "status", "checked_in_at", "checked_out_at", "check_in_distance_m", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Shift)
class ShiftAdmin(OrganizationScopedAdmin):
    list_display = (
        "name",
        "campaign",
        "starts_at",
        "ends_at",
        "location_name",
        "capacity",
        "signup_count",
        "places_left",
    )
    list_filter = (scoped_filter("campaign"),)
    search_fields = ("name", "location_name")
    list_select_related = ("campaign",)
    date_hierarchy = "starts_at"
    readonly_fields = ("signup_count", "created_at")
    inlines = [ShiftSignupInline]
    access_scope = staticmethod(shifts_for_user)

    @admin.display(description="places left")
    def places_left(self, obj: Shift) -> int:
        return max(obj.capacity - obj.signup_count, 0)

    def save_model(self, request, obj, form, change):
        # The form has put its values on obj; the service writes them.
        if change:
            # Only what the organizer changed: signup_count and the rest are the database's.
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.SHIFT_EDITABLE}
            services.shift_update(shift=obj, actor=request.user, **changed)
            return
        shift = services.shift_create(
            organization=new_row_organization(request, obj),
            actor=request.user,
            **{name: getattr(obj, name) for name in services.SHIFT_EDITABLE},
        )
        obj.pk, obj.signup_count, obj.created_at = shift.pk, shift.signup_count, shift.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.shift_delete(shift=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for shift in queryset.select_related("organization"):
                services.shift_delete(shift=shift, actor=request.user)


class AssignmentCanvasserInline(ScopedTabularInline):
    model = AssignmentCanvasser
    fields = ("user",)
    verbose_name = "canvasser"
    verbose_name_plural = "canvassers"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ("organization", "campaign", "turf", "shift", "starts_at", "ends_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        turf, campaign = cleaned.get("turf"), cleaned.get("campaign")
        if turf is not None and campaign is not None and turf.campaign_id != campaign.pk:
            self.add_error("turf", "This turf belongs to another campaign.")
        return cleaned


def _canvassers(formsets) -> list:
    """The canvassers the inline names once saved: its rows, less those ticked for deletion."""
    users = []
    for formset in formsets:
        if formset.model is not AssignmentCanvasser:
            continue
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None) or {}
            if data.get("user") is not None and not data.get("DELETE"):
                users.append(data["user"])
    return users


@admin.register(Assignment)
class AssignmentAdmin(OrganizationScopedAdmin):
    """Assignments are created, re-timed, reassigned, ended and deleted by the
    services, as through the API: an inactive member, too many canvassers or an
    archived turf are refused here as they are there."""

    form = AssignmentForm
    list_display = ("turf", "campaign", "shift", "starts_at", "ends_at", "ended_at", "canvasser_names")
    list_filter = (scoped_filter("campaign"), ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("turf__name",)
    list_select_related = ("turf", "campaign", "shift")
    inlines = [AssignmentCanvasserInline]
    actions = ["end_now"]
    access_scope = staticmethod(assignments_for_user)

    def get_readonly_fields(self, request, obj=None):
        # A turf or shift is given once: for another, end this and create a new one.
        fixed = ("campaign", "turf", "shift", "ended_at") if obj is not None else ()
        return (*fixed, "created_by", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("canvassers")

    @admin.display(description="canvassers")
    def canvasser_names(self, obj: Assignment) -> str:
        return ", ".join(user.get_username() for user in obj.canvassers.all())

    def save_model(self, request, obj, form, change):
        # Written with the canvassers of the inline, in save_related: the
        # service takes them all at once.
        pass

    def save_related(self, request, form, formsets, change):
        obj, data = form.instance, form.cleaned_data
        users = _canvassers(formsets)
        for formset in formsets:
            # The inline is not saved by the admin: the service writes its rows.
            # (The admin's history message reads these.)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not change:
            created = services.assignment_create(
                organization=new_row_organization(request, obj),
                actor=request.user,
                turf=data["turf"],
                canvassers=users,
                shift=data.get("shift"),
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
            )
            # The admin logs and redirects to `obj`: make it the saved row.
            obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
            obj._state.adding = False
            return
        if {"starts_at", "ends_at"} & set(form.changed_data):
            services.assignment_update(
                assignment=obj, actor=request.user, starts_at=data["starts_at"], ends_at=data.get("ends_at")
            )
        if {u.pk for u in users} != set(obj.members.values_list("user_id", flat=True)):
            services.assignment_reassign(assignment=obj, canvassers=users, actor=request.user)

    def delete_model(self, request, obj):
        services.assignment_delete(assignment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for assignment in queryset.select_related("organization"):
                services.assignment_delete(assignment=assignment, actor=request.user)

    def has_end_now_permission(self, request) -> bool:
        return self.has_change_permission(request)

    @admin.action(description="End the selected assignments now", permissions=["end_now"])
    def end_now(self, request, queryset) -> None:
        ended = sum(
            services.assignment_end(assignment=a, actor=request.user) for a in queryset.select_related("organization")
        )
        self.message_user(request, f"Ended {ended} assignment(s); their canvassers lose them at once.")
