"""Organizer screens of field work: shifts with their sign-ups, assignments."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from canvass.field.models import Assignment, AssignmentCanvasser, Shift, ShiftSignup
from canvass.field.services import assignment_changes_log, assignment_end
from fieldops.admin_scoping import OrganizationScopedAdmin, ScopedTabularInline, scoped_filter
from fieldops.services import audit_log


class ShiftSignupInline(ScopedTabularInline):
    """Sign-ups come through the API, which keeps signup_count and the capacity true."""

    model = ShiftSignup
    view_only = True
    fields = ("user", "status", "checked_in_at", "checked_out_at", "check_in_distance_m", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class ShiftForm(forms.ModelForm):
    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk is not None:
            # Read now, not from the loaded row: phones sign up while the form is open.
            taken = Shift.objects.filter(pk=self.instance.pk).values_list("signup_count", flat=True).first() or 0
            if capacity < taken:
                raise forms.ValidationError(f"{taken} people are signed up; the capacity cannot be less.")
        return capacity


@admin.register(Shift)
class ShiftAdmin(OrganizationScopedAdmin):
    form = ShiftForm
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

    @admin.display(description="places left")
    def places_left(self, obj: Shift) -> int:
        return max(obj.capacity - obj.signup_count, 0)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Never write signup_count from the loaded row: sign-ups change it by
        # conditional UPDATEs meanwhile, and a full save would undo them.
        concrete = {f.name for f in Shift._meta.concrete_fields} - {"signup_count", "id"}
        fields = [name for name in form.changed_data if name in concrete]
        if fields:
            obj.save(update_fields=fields)


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
        fields = ("organization", "campaign", "turf", "shift", "starts_at", "ends_at", "ended_at")

    def clean(self):
        cleaned = super().clean()
        turf, campaign = cleaned.get("turf"), cleaned.get("campaign")
        if turf is not None and campaign is not None and turf.campaign_id != campaign.pk:
            self.add_error("turf", "This turf belongs to another campaign.")
        return cleaned


@admin.register(Assignment)
class AssignmentAdmin(OrganizationScopedAdmin):
    form = AssignmentForm
    list_display = ("turf", "campaign", "shift", "starts_at", "ends_at", "ended_at", "canvasser_names")
    list_filter = (scoped_filter("campaign"), ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("turf__name",)
    list_select_related = ("turf", "campaign", "shift")
    readonly_fields = ("created_by", "created_at")
    inlines = [AssignmentCanvasserInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("canvassers")

    @admin.display(description="canvassers")
    def canvasser_names(self, obj: Assignment) -> str:
        return ", ".join(user.get_username() for user in obj.canvassers.all())

    actions = ["end_now"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            return
        # Only what the organizer changed: a full save of the loaded row would
        # undo an end (ended_at) made through the API while the form was open.
        concrete = {f.name for f in Assignment._meta.concrete_fields} - {"id"}
        fields = [name for name in form.changed_data if name in concrete]
        if fields:
            obj.save(update_fields=fields)

    def save_related(self, request, form, formsets, change):
        # Audited here, not in save_model: the canvassers are saved with the inline.
        before = set(form.instance.members.values_list("user_id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        obj = form.instance
        after = set(obj.members.values_list("user_id", flat=True))
        # Phones hear of it at their next pull: every canvasser when the
        # assignment is new or its turf, times or end changed; else those added or removed.
        touched = (before | after) if (not change or form.changed_data) else (before ^ after)
        if touched:
            assignment_changes_log(obj, touched)
        if not change:
            audit_log(
                organization=obj.organization,
                actor=request.user,
                action="assignment.create",
                obj=obj,
                turf_id=obj.turf_id,
                canvassers=sorted(after),
                shift_id=obj.shift_id,
                via="admin",
            )
            return
        if "ended_at" in form.changed_data and obj.ended_at is not None:
            audit_log(organization=obj.organization, actor=request.user, action="assignment.end", obj=obj, via="admin")
        if before != after:
            audit_log(
                organization=obj.organization,
                actor=request.user,
                action="assignment.reassign",
                obj=obj,
                added=sorted(after - before),
                removed=sorted(before - after),
                via="admin",
            )

    def delete_model(self, request, obj):
        assignment_changes_log(obj, set(obj.members.values_list("user_id", flat=True)))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            assignment_changes_log(obj, set(obj.members.values_list("user_id", flat=True)))
        super().delete_queryset(request, queryset)

    def has_end_now_permission(self, request) -> bool:
        return self.has_change_permission(request)

    @admin.action(description="End the selected assignments now", permissions=["end_now"])
    def end_now(self, request, queryset) -> None:
        ended = sum(assignment_end(assignment=a, actor=request.user) for a in queryset.select_related("organization"))
        self.message_user(request, f"Ended {ended} assignment(s); their canvassers lose them at once.")
