"""Organizer screens of campaigns: the campaign (with its dashboard and turf tools), its script, the result codes.

Every write calls canvass/campaigns/services.py, with its checks and audit
entry; a refusal is shown on the form or as a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from canvass.access import campaigns_for_user
from canvass.campaigns import services
from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.stats.dashboard import CampaignDashboard
from canvass.turfs.admin import CampaignTurfTools
from canvass.turfs.models import Turf
from fieldops.admin_scoping import (
    OrganizationScopedAdmin,
    ScopedTabularInline,
    adopt,
    changes_of,
    inline_save,
    new_row_organization,
    scoped_filter,
)
from turf.models import DoorDistrict

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TurfCount(TypedDict):  # what CampaignAdmin.get_queryset annotates
    _turf_count: int


class SurveyQuestionInline(ScopedTabularInline):
    model = SurveyQuestion
    fields = ("position", "text", "text_es", "is_active", "van_survey_question_id")
    show_change_link = True


def questions_save(request, formset, *, campaign: Campaign) -> None:
    """A script's questions, row by row through the question services."""
    actor = request.user
    inline_save(
        formset,
        editable=services.QUESTION_EDITABLE,
        create=lambda fields: services.survey_question_create(campaign=campaign, actor=actor, **fields),
        update=lambda question, changes: services.survey_question_update(question=question, actor=actor, **changes),
        delete=lambda question: services.survey_question_delete(question=question, actor=actor),
    )


def options_save(request, formset, *, question: SurveyQuestion) -> None:
    """A question's options, row by row through the option services."""
    actor = request.user
    inline_save(
        formset,
        editable=services.OPTION_EDITABLE,
        create=lambda fields: services.survey_option_create(question=question, actor=actor, **fields),
        update=lambda option, changes: services.survey_option_update(option=option, actor=actor, **changes),
        delete=lambda option: services.survey_option_delete(option=option, actor=actor),
    )


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
    access_scope = staticmethod(campaigns_for_user)

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

    def save_model(self, request, obj, form, change):
        if change:
            services.campaign_update(campaign=obj, actor=request.user, **changes_of(form, services.CAMPAIGN_EDITABLE))
            return
        fields = {name: form.cleaned_data[name] for name in services.CAMPAIGN_EDITABLE if name in form.cleaned_data}
        campaign = services.campaign_create(
            organization=new_row_organization(request, obj),
            actor=request.user,
            **fields,
        )
        adopt(obj, campaign)

    def save_related(self, request, form, formsets, change):
        # The target districts were written by the service (no form.save_m2m()).
        for formset in formsets:
            if formset.model is SurveyQuestion:
                questions_save(request, formset, campaign=form.instance)

    def delete_model(self, request, obj):
        services.campaign_delete(campaign=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for campaign in queryset.select_related("organization"):
                services.campaign_delete(campaign=campaign, actor=request.user)

    @admin.display(description="active turfs", ordering="_turf_count")
    def turf_count(self, obj: WithAnnotations[Campaign, _TurfCount]) -> int:
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
    list_filter = (scoped_filter("campaign"), "is_active")
    search_fields = ("text", "text_es")
    list_select_related = ("campaign",)
    inlines = [SurveyOptionInline]

    def get_readonly_fields(self, request, obj=None):
        # Knocks answer a question of their campaign: it never moves to another.
        fixed = ("campaign",) if obj is not None else ()
        return (*fixed, *super().get_readonly_fields(request, obj))

    def save_model(self, request, obj, form, change):
        if change:
            services.survey_question_update(
                question=obj, actor=request.user, **changes_of(form, services.QUESTION_EDITABLE)
            )
            return
        fields = {name: form.cleaned_data[name] for name in services.QUESTION_EDITABLE if name in form.cleaned_data}
        adopt(
            obj,
            services.survey_question_create(campaign=form.cleaned_data["campaign"], actor=request.user, **fields),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not SurveyOption:
            return super().save_formset(request, form, formset, change)
        options_save(request, formset, question=form.instance)
        return None

    def delete_model(self, request, obj):
        services.survey_question_delete(question=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for question in queryset.select_related("campaign__organization"):
                services.survey_question_delete(question=question, actor=request.user)


@admin.register(SurveyOption)
class SurveyOptionAdmin(OrganizationScopedAdmin):
    organization_field = "question__campaign__organization"
    list_display = ("label", "label_es", "question", "position", "van_survey_response_id")
    list_filter = (scoped_filter("question__campaign"),)
    search_fields = ("label", "label_es", "question__text")
    list_select_related = ("question",)

    def get_readonly_fields(self, request, obj=None):
        # Knocks store {question id: option id}: an option never moves to another question.
        fixed = ("question",) if obj is not None else ()
        return (*fixed, *super().get_readonly_fields(request, obj))

    def save_model(self, request, obj, form, change):
        if change:
            services.survey_option_update(option=obj, actor=request.user, **changes_of(form, services.OPTION_EDITABLE))
            return
        fields = {name: form.cleaned_data[name] for name in services.OPTION_EDITABLE if name in form.cleaned_data}
        adopt(obj, services.survey_option_create(question=form.cleaned_data["question"], actor=request.user, **fields))

    def delete_model(self, request, obj):
        services.survey_option_delete(option=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for option in queryset.select_related("question__campaign__organization"):
                services.survey_option_delete(option=option, actor=request.user)


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

    def save_model(self, request, obj, form, change):
        # Also the list's save of its editable column (one call per changed row).
        if change:
            services.result_code_update(
                result_code=obj, actor=request.user, **changes_of(form, services.RESULT_CODE_EDITABLE)
            )
            return
        fields = {name: form.cleaned_data[name] for name in services.RESULT_CODE_EDITABLE if name in form.cleaned_data}
        code = services.result_code_create(
            organization=new_row_organization(request, obj),
            actor=request.user,
            **fields,
        )
        adopt(obj, code)

    def delete_model(self, request, obj):
        services.result_code_delete(result_code=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for code in queryset.select_related("organization"):
                services.result_code_delete(result_code=code, actor=request.user)
