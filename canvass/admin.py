"""Organizer screens of field work: campaigns, scripts, result codes, turfs, shifts,
assignments and the knocks that came back from the phones."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from canvass.dashboard import CampaignDashboard
from canvass.models import (
    Assignment,
    AssignmentCanvasser,
    Campaign,
    ContactAttempt,
    ResultCode,
    Shift,
    ShiftSignup,
    SurveyOption,
    SurveyQuestion,
    Turf,
    TurfCutJob,
    TurfDoor,
)
from canvass.services import assignment_changes_log, assignment_end
from canvass.turf_admin import CampaignTurfTools, TurfTools
from fieldops.admin_scoping import OrganizationScopedAdmin, ScopedRelatedFieldListFilter, ScopedTabularInline
from fieldops.services import audit_log
from turf.models import DoorDistrict


def _scoped(field: str) -> tuple[str, type[ScopedRelatedFieldListFilter]]:
    return (field, ScopedRelatedFieldListFilter)


class SurveyQuestionInline(ScopedTabularInline):
    model = SurveyQuestion
    fields = ("position", "text", "text_es", "is_active", "van_survey_question_id")
    show_change_link = True


@admin.register(Campaign)
class CampaignAdmin(CampaignDashboard, CampaignTurfTools, OrganizationScopedAdmin):
    list_display = ("name", "slug", "starts_on", "ends_on", "goal_doors", "turf_count", "universe", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("target_districts",)
    related_select = {"target_districts": ("layer",)}
    readonly_fields = ("dashboard_link", "universe", "turf_tools", "created_at")
    inlines = [SurveyQuestionInline]
    actions = ["cut_turfs_action"]

    def get_queryset(self, request):
        # A door in two target districts is one door of the universe.
        universe = (
            DoorDistrict.objects.filter(district__campaigns=OuterRef("pk"))
            .order_by()
            .values("district__campaigns")
            .annotate(n=Count("door", distinct=True))
            .values("n")
        )
        turfs = (
            Turf.objects.filter(campaign=OuterRef("pk"), status=Turf.Status.ACTIVE)
            .order_by()
            .values("campaign")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Two subqueries, no join: joining the turfs made the database count the
        # universe once per turf (4.3 s for the Venice campaign's 257 turfs).
        return (
            super()
            .get_queryset(request)
            .annotate(
                _turf_count=Coalesce(Subquery(turfs, output_field=IntegerField()), 0),
                _universe=Coalesce(Subquery(universe, output_field=IntegerField()), 0),
            )
        )

    @admin.display(description="active turfs", ordering="_turf_count")
    def turf_count(self, obj: Campaign) -> int:
        return obj._turf_count

    @admin.display(description="doors in universe", ordering="_universe")
    def universe(self, obj: Campaign) -> int | str:
        return getattr(obj, "_universe", "—")


class SurveyOptionInline(ScopedTabularInline):
    model = SurveyOption
    fields = ("position", "label", "label_es", "van_survey_response_id")


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(OrganizationScopedAdmin):
    organization_field = "campaign__organization"
    list_display = ("text", "text_es", "campaign", "position", "is_active", "van_survey_question_id")
    list_filter = (_scoped("campaign"), "is_active")
    search_fields = ("text", "text_es")
    list_select_related = ("campaign",)
    inlines = [SurveyOptionInline]


@admin.register(SurveyOption)
class SurveyOptionAdmin(OrganizationScopedAdmin):
    organization_field = "question__campaign__organization"
    list_display = ("label", "label_es", "question", "position", "van_survey_response_id")
    list_filter = (_scoped("question__campaign"),)
    search_fields = ("label", "label_es", "question__text")
    list_select_related = ("question",)


@admin.register(ResultCode)
class ResultCodeAdmin(OrganizationScopedAdmin):
    list_display = (
        "code",
        "label",
        "label_es",
        "position",
        "is_contact",
        "is_refusal",
        "is_final",
        "is_active",
        "van_result_code_id",
    )
    # Mapping the codes to VAN is one column typed down the list.
    list_editable = ("van_result_code_id",)
    list_filter = ("is_active", "is_contact", "is_final")
    search_fields = ("code", "label", "label_es")


class TurfDoorInline(ScopedTabularInline):
    """The walk list, in walk order. Written by turf cutting, not by hand."""

    model = TurfDoor
    view_only = True
    fields = ("position", "door")
    raw_id_fields = ("door",)
    ordering = ("position",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("door")


@admin.register(Turf)
class TurfAdmin(TurfTools, OrganizationScopedAdmin):
    list_display = (
        "name",
        "campaign",
        "status",
        "door_count",
        "building_count",
        "walk_distance_m",
        "compactness",
    )
    list_filter = (_scoped("campaign"), "status")
    search_fields = ("name",)
    list_select_related = ("campaign",)
    related_select = {"district": ("layer",)}
    readonly_fields = (
        "turf_map",
        "door_count",
        "building_count",
        "person_count",
        "walk_distance_m",
        "walk_minutes",
        "compactness",
        "polygon",
        "created_at",
        "updated_at",
    )
    inlines = [TurfDoorInline]
    actions = ["print_walk_sheets"]
    # Turfs come from the cutter or a drawn polygon (the campaign's turf tools), not from an empty form.
    addable = False


@admin.register(TurfCutJob)
class TurfCutJobAdmin(OrganizationScopedAdmin):
    """Cuts started from a campaign's "Cut turfs…": their progress and summary. Read-only."""

    view_only = True
    list_display = ("campaign", "target_doors", "status", "progress", "message", "created_by", "created_at")
    list_filter = (_scoped("campaign"), "status")
    list_select_related = ("campaign", "created_by")
    fields = (
        "campaign",
        "status",
        "progress",
        "message",
        "notes",
        "target_doors",
        "layer",
        "only_unknocked",
        "replace",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, job: TurfCutJob) -> str:
        if job.status == TurfCutJob.Status.QUEUED:
            return "waiting for a worker"
        if not job.total:
            return "starting…" if job.status == TurfCutJob.Status.RUNNING else "—"
        return f"{job.done:,} of {job.total:,} ({100 * job.done // job.total}%)"

    @admin.display(description="notes")
    def notes(self, job: TurfCutJob) -> str:
        return "\n".join(job.summary.get("notes", [])) if job.summary else ""

    def changelist_view(self, request, extra_context=None):
        running = self.get_queryset(request).filter(status__in=[TurfCutJob.Status.QUEUED, TurfCutJob.Status.RUNNING])
        return super().changelist_view(request, {**(extra_context or {}), "jobs_running": running.exists()})


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
    list_filter = (_scoped("campaign"),)
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
    list_filter = (_scoped("campaign"), ("ended_at", admin.EmptyFieldListFilter))
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
        _scoped("campaign"),
        _scoped("result_code"),
        "off_list",
        "far_from_door",
        "too_fast",
    )
    search_fields = ("=canvasser__username", "door__street_name", "=door__number")
    date_hierarchy = "corrected_at"
    list_select_related = ("canvasser", "door", "result_code")
    show_full_result_count = False
