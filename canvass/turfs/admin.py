"""The organizer's turf screens in the admin: the turfs and the cutting runs, and
the turf tools: cut (a background job), draw from GeoJSON, the campaign's
interactive turf map (admin_map.py), and printable walk sheets.

The tools are mixed into CampaignAdmin (canvass/campaigns/admin.py) and
TurfAdmin (below). Every view looks its objects up through the admin's scoped
queryset, so another organization's campaign answers like a missing one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from shapely.geometry import shape

from canvass.access import turf_cut_jobs_for_user, turfs_for_user
from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.field.models import Assignment
from canvass.field.selectors import current_assignment_q
from canvass.field.services import assignment_create
from canvass.stats.models import StatsDay, StatsKind
from canvass.turfs import selectors as turf_selectors
from canvass.turfs import services as turf_services
from canvass.turfs.admin_map import CampaignMapTools
from canvass.turfs.models import Turf, TurfCutJob, TurfDoor
from fieldops.access import User, organization_for, parse_id
from fieldops.admin_scoping import OrganizationScopedAdmin, ScopedTabularInline, refusal_text, scoped_filter
from fieldops.request_types import AuthenticatedHttpRequest
from fieldops.services import audit_log
from turf.access import layers_for_user
from turf.models import DistrictLayer
from turf.svgmap import Dot, Shape, svg_map

MAX_GEOJSON_BYTES = 2_000_000
UserModel = get_user_model()


class CutTurfsForm(forms.Form):
    target_doors = forms.IntegerField(
        min_value=1, max_value=100_000, initial=60, help_text="Doors per turf; 50–80 is a two-to-three-hour shift."
    )
    layer = forms.ModelChoiceField(
        queryset=DistrictLayer.objects.none(),
        required=False,
        empty_label="the layer of the campaign's target districts",
        help_text="No turf crosses a boundary of this layer, so per-district reports stay clean.",
    )
    only_unknocked = forms.BooleanField(required=False, help_text="Leave out doors already knocked in this campaign.")
    replace = forms.BooleanField(
        required=False,
        help_text="Archive the campaign's active turfs that nobody is assigned to, and cut their doors again.",
    )

    def __init__(self, *args: Any, campaign: Campaign, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["layer"]).queryset = layers_for_user(user).filter(
            organization_id=campaign.organization_id
        )


class DrawTurfForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, help_text="Empty: Drawn 001, Drawn 002, …")
    geojson_file = forms.FileField(
        required=False, label="GeoJSON file", help_text="A Polygon, a Feature or a FeatureCollection of one polygon."
    )
    geojson = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6, "cols": 80}), label="…or paste GeoJSON"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        upload = cleaned.get("geojson_file")
        text = cleaned.get("geojson") or ""
        if upload is not None:
            if upload.size > MAX_GEOJSON_BYTES:
                raise ValidationError(
                    f"The file is larger than {MAX_GEOJSON_BYTES // 1_000_000} MB; simplify the polygon."
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError("The file is not UTF-8 text; save it as GeoJSON (UTF-8).") from None
        if not text.strip():
            raise ValidationError("Upload a GeoJSON file or paste a polygon.")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"This is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        cleaned["polygon"] = geometry_of(obj)
        return cleaned


def short_labels(labels: list[str]) -> list[str]:
    """Column heads for the walk sheet's result boxes: the initials of each label
    ("Not home" → "NH"), lengthened until no two are alike; the sheet's legend spells them out."""
    words = [label.split() or ["?"] for label in labels]
    heads = ["".join(w[0] for w in ws).upper() for ws in words]
    for _ in range(3):
        seen: dict[str, int] = {}
        for head in heads:
            seen[head] = seen.get(head, 0) + 1
        if all(n == 1 for n in seen.values()):
            break
        # A clash ("Moved", "Maybe"): add the next letter of the last word.
        heads = [
            head + (ws[-1][len(head) - len(ws) + 1 : len(head) - len(ws) + 2].lower() if seen[head] > 1 else "")
            for head, ws in zip(heads, words, strict=True)
        ]
    # Still alike after three letters: number them.
    counts: dict[str, int] = {}
    unique = []
    for head in heads:
        counts[head] = counts.get(head, 0) + 1
        unique.append(head if heads.count(head) == 1 else f"{head}{counts[head]}")
    return unique


def geometry_of(obj: object) -> object:
    """The geometry of a GeoJSON geometry, Feature, or FeatureCollection of one feature."""
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features") or []
        if len(features) != 1:
            raise ValidationError(f"The collection has {len(features)} features; give exactly one polygon.")
        obj = features[0]
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    return obj


if TYPE_CHECKING:
    # The admins these tools are mixed into, so that their calls to the admin are checked.
    _CampaignAdminBase = admin.ModelAdmin[Campaign]
    _TurfAdminBase = admin.ModelAdmin[Turf]
else:
    _CampaignAdminBase = _TurfAdminBase = object


class CampaignTurfTools(CampaignMapTools, _CampaignAdminBase):
    """URLs and views on a campaign: cut, draw, and the map (canvass/turfs/admin_map.py)."""

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path("<path:object_id>/cut-turfs/", wrap(self.cut_turfs_view), name="canvass_campaign_cut_turfs"),
            path("<path:object_id>/draw-turf/", wrap(self.draw_turf_view), name="canvass_campaign_draw_turf"),
        ]
        return own + self.map_urls() + super().get_urls()

    def _campaign(self, request: HttpRequest, object_id: str, write: bool) -> Campaign:
        campaign = self.get_object(request, object_id)
        if campaign is None:
            raise Http404("No such campaign.")
        allowed = (
            self.has_change_permission(request, campaign) if write else self.has_view_permission(request, campaign)
        )
        if not allowed:
            raise PermissionDenied
        return campaign

    def _context(self, request: HttpRequest, campaign: Campaign, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": Campaign._meta,
            "original": campaign,
            "campaign": campaign,
            "title": title,
            **extra,
        }

    @admin.display(description="turf tools")
    def turf_tools(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "Save the campaign first."
        links = [
            (reverse("admin:canvass_campaign_cut_turfs", args=[obj.pk]), "Cut turfs…"),
            (reverse("admin:canvass_campaign_draw_turf", args=[obj.pk]), "Draw a turf…"),
            (reverse("admin:canvass_campaign_turf_map", args=[obj.pk]), "Map of turfs"),
            (reverse("admin:canvass_turf_changelist") + f"?campaign__id__exact={obj.pk}", "Turf list / walk sheets"),
        ]
        return format_html(" · ".join('<a href="{}">{}</a>' for _ in links), *[p for link in links for p in link])

    @admin.action(description="Cut turfs for the selected campaign…")
    def cut_turfs_action(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> HttpResponse | None:
        campaigns = list(queryset[:2])
        if len(campaigns) != 1:
            self.message_user(request, "Select exactly one campaign to cut.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:canvass_campaign_cut_turfs", args=[campaigns[0].pk]))

    def cut_turfs_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        campaign = self._campaign(request, object_id, write=True)
        doors = turf_selectors.cut_situation(campaign=campaign)
        # Defaults that work: with no free door left (the demo, any campaign cut once) the
        # form starts on re-cutting the turfs nobody holds, instead of failing with
        # "all doors are already in active turfs".
        initial = {"replace": doors["free"] == 0 and doors["universe"] > 0}
        form = CutTurfsForm(
            request.POST if request.method == "POST" else None, campaign=campaign, user=request.user, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            try:
                job = turf_services.turf_cut_job_start(
                    campaign=campaign,
                    target_doors=form.cleaned_data["target_doors"],
                    layer=form.cleaned_data["layer"],
                    only_unknocked=form.cleaned_data["only_unknocked"],
                    replace=form.cleaned_data["replace"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, turf_services.validation_message(exc))
            else:
                self.message_user(
                    request,
                    f"The cut of {campaign} is queued; a worker runs it. This page shows its progress.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:canvass_turfcutjob_change", args=[job.pk]))
        return render(
            request,
            "admin/canvass/campaign/cut_turfs.html",
            self._context(request, campaign, f"Cut turfs: {campaign}", form=form, doors=doors),
        )

    def draw_turf_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        campaign = self._campaign(request, object_id, write=True)
        form = DrawTurfForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
        if request.method == "POST" and form.is_valid():
            try:
                drawn = turf_services.turf_create_from_polygon(
                    campaign=campaign,
                    geojson=form.cleaned_data["polygon"],
                    name=form.cleaned_data["name"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, turf_services.validation_message(exc))
            else:
                text = f"Turf {drawn.turf.name} has {drawn.turf.door_count} doors."
                if drawn.already_in_turfs:
                    others = sorted(set(drawn.already_in_turfs.values()))
                    text += (
                        f" {len(drawn.already_in_turfs)} doors inside the polygon stay in their turfs "
                        f"({', '.join(others[:5])}{'…' if len(others) > 5 else ''})."
                    )
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:canvass_turf_change", args=[drawn.turf.pk]))
        return render(
            request,
            "admin/canvass/campaign/draw_turf.html",
            self._context(request, campaign, f"Draw a turf: {campaign}", form=form),
        )


def walk_sheet_map(turf: Turf, stops: list[TurfDoor]) -> str:
    """The turf on the first page of its walk sheet: its polygon, its doors and the walk
    through them in order from the start, framed on the doors; "" with no located door."""
    points = [(s.door.lng, s.door.lat) for s in stops if s.door.lat is not None and s.door.lng is not None]
    if not points:
        return ""
    shapes = [Shape(geometry=shape(turf.polygon), fill="#9ecae1")] if turf.polygon else []
    dots = [Dot(lng=lng, lat=lat) for lng, lat in points]
    # Units of a building share a point: the line visits each point once.
    route = [point for i, point in enumerate(points) if i == 0 or point != points[i - 1]]
    return mark_safe(svg_map(shapes, dots, width=560, fit_dots=True, route=route))  # noqa: S308 - escaped in turf/svgmap.py


class TurfTools(_TurfAdminBase):
    """A turf's map on its page, and printable walk sheets."""

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [path("walk-sheets/", wrap(self.walk_sheets_view), name="canvass_turf_walk_sheets")]
        return own + super().get_urls()

    @admin.display(description="map")
    def turf_map(self, obj: Turf) -> str:
        if obj.pk is None:
            return "—"
        doors = list(obj.doors.filter(lat__isnull=False).values_list("lng", "lat"))
        shapes = [Shape(geometry=shape(obj.polygon), label="")] if obj.polygon else []
        if not shapes and not doors:
            return "No polygon and no located doors."
        dots = [Dot(lng=lng, lat=lat) for lng, lat in doors if lng is not None and lat is not None]
        sheet = reverse("admin:canvass_turf_walk_sheets") + f"?ids={obj.pk}"
        # Framed on the doors: a cut turf's polygon tiles its district and can be far larger.
        return mark_safe(  # noqa: S308 - built from escaped parts in turf/svgmap.py
            svg_map(shapes, dots, width=500, fit_dots=True)
            + format_html('<p><a href="{}">Print the walk sheet</a></p>', sheet)
        )

    @admin.action(description="Print walk sheets of the selected turfs")
    def print_walk_sheets(self, request: HttpRequest, queryset: QuerySet[Turf]) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True)[:200])
        return HttpResponseRedirect(reverse("admin:canvass_turf_walk_sheets") + f"?ids={ids}")

    def walk_sheets_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        parsed = [parse_id(part.strip()) for part in request.GET.get("ids", "").split(",") if part.strip()][:200]
        ids = [pk for pk in parsed if pk is not None]
        if len(ids) != len(parsed):
            raise Http404("Turf ids are numbers, e.g. ?ids=3,4")
        turfs = list(
            self.get_queryset(request).filter(pk__in=ids).select_related("campaign", "district").order_by("name")
        )
        if not turfs:
            raise Http404("No such turfs.")
        stops = (
            TurfDoor.objects.filter(turf__in=turfs)
            .select_related("door")
            .prefetch_related("door__people")
            .order_by("turf_id", "position")
        )
        by_turf: dict[int, list[TurfDoor]] = {}
        for stop in stops:
            by_turf.setdefault(stop.turf_id, []).append(stop)
        maps = {turf.pk: walk_sheet_map(turf, by_turf.get(turf.pk, [])) for turf in turfs}
        organization = organization_for(request.user) or turfs[0].organization
        codes = list(
            ResultCode.objects.filter(organization_id=turfs[0].organization_id, is_active=True).order_by("position")
        )
        # Each campaign's script, once per sheet as a legend; a door's cell has a box per option.
        questions = SurveyQuestion.objects.filter(
            campaign_id__in={t.campaign_id for t in turfs}, is_active=True
        ).prefetch_related(Prefetch("options", queryset=SurveyOption.objects.order_by("position", "id")))
        script: dict[int, list[dict[str, Any]]] = {}
        for question in questions:
            options = [
                {"letter": chr(ord("a") + i) if i < 26 else str(i + 1), "label": option.label}
                for i, option in enumerate(question.options.all())
            ]
            script.setdefault(question.campaign_id, []).append({"text": question.text, "options": options})
        for entries in script.values():
            for number, entry in enumerate(entries, start=1):
                entry["number"] = number
        audit_log(
            organization=organization,
            actor=request.user,
            action="walk_sheets.print",
            turfs=[t.pk for t in turfs],
            doors=sum(len(v) for v in by_turf.values()),
        )
        # Sheets are read by people on the street: the chapter's local time.
        printed = timezone.localtime(timezone.now(), organization.tzinfo)
        return render(
            request,
            "admin/canvass/turf/walk_sheets.html",
            {
                "sheets": [
                    (turf, by_turf.get(turf.pk, []), script.get(turf.campaign_id, []), maps[turf.pk]) for turf in turfs
                ],
                "codes": list(zip(codes, short_labels([code.label for code in codes]), strict=True)),
                "printed": printed,
                "organization": organization,
            },
        )


class TurfActionForm(helpers.ActionForm):
    """The turf list's action bar, with the canvasser for "assign" (its choices are the
    organization's members, filled per request in admin/canvass/turf/actions.html; the
    action checks the one sent)."""

    canvasser = forms.CharField(required=False)


class TurfDoorInline(ScopedTabularInline):
    """The walk list, in walk order. Written by turf cutting, not by hand."""

    model = TurfDoor
    view_only = True
    fields = ("position", "door")
    raw_id_fields = ("door",)
    ordering = ("position",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("door")


class AssignmentListFilter(admin.SimpleListFilter):
    """Free turfs (active, nobody currently assigned) to hand out, or the assigned ones."""

    title = "assignment"
    parameter_name = "assignment"

    def lookups(self, request, model_admin):
        return [("free", "free (nobody assigned)"), ("assigned", "assigned")]

    def queryset(self, request, queryset):
        assigned = turf_selectors.current_assignment_exists()
        if self.value() == "free":
            return queryset.filter(~assigned, status=Turf.Status.ACTIVE)
        if self.value() == "assigned":
            return queryset.filter(assigned)
        return queryset


def _stats_of_turf(field: str, aggregate: type[Sum] | type[Max]) -> Subquery:
    rows = StatsDay.objects.filter(kind=StatsKind.TURF, key_id=OuterRef("pk"), campaign_id=OuterRef("campaign_id"))
    return Subquery(rows.order_by().values("key_id").annotate(v=aggregate(field)).values("v")[:1])


@admin.register(Turf)
class TurfAdmin(TurfTools, OrganizationScopedAdmin):
    list_display = (
        "number_label",
        "name",
        "campaign",
        "status_label",
        "assigned_to",
        "door_count",
        "progress",
        "last_knock",
        "walk_km",
    )
    list_display_links = ("number_label", "name")
    list_filter = (AssignmentListFilter, scoped_filter("campaign"), "status")
    search_fields = ("name",)
    list_select_related = ("campaign",)
    related_select = {"district": ("layer",)}
    readonly_fields = (
        "turf_map",
        "number",
        "door_count",
        "building_count",
        "person_count",
        "walk_km",
        "walk_minutes",
        "compactness",
        "created_at",
        "updated_at",
    )
    exclude = ("polygon",)  # drawn on the map above, not dumped as coordinates
    inlines = [TurfDoorInline]
    actions = ["assign_to_canvasser", "print_walk_sheets", "archive"]
    action_form = TurfActionForm
    ordering = ("campaign", "status", "number", "name")
    # Turfs come from the cutter or a drawn polygon (the campaign's turf tools), not from an empty form.
    addable = False
    access_scope = staticmethod(turfs_for_user)

    def get_queryset(self, request):
        current = Assignment.objects.filter(current_assignment_q()).prefetch_related("canvassers")
        return (
            super()
            .get_queryset(request)
            .annotate(
                knocked=Coalesce(_stats_of_turf("new_doors", Sum), 0),
                last_day=_stats_of_turf("day", Max),
            )
            .prefetch_related(Prefetch("assignments", queryset=current, to_attr="current_assignments"))
        )

    @admin.display(description="#", ordering="number")
    def number_label(self, obj: Turf) -> str:
        return str(obj.number) if obj.number is not None else "—"

    @admin.display(description="status", ordering="status")
    def status_label(self, obj: Turf) -> str:
        if obj.status == Turf.Status.ARCHIVED:
            return format_html('<span class="fo-archived">{}</span>', "archived")
        return "active"

    @admin.display(description="assigned to")
    def assigned_to(self, obj: Turf) -> str:
        names = [
            user.get_full_name() or user.get_username()
            for assignment in getattr(obj, "current_assignments", [])
            for user in assignment.canvassers.all()
        ]
        if names:
            return ", ".join(dict.fromkeys(names))
        if obj.status == Turf.Status.ACTIVE:
            return format_html('<strong class="fo-free">{}</strong>', "free")
        return "—"

    @admin.display(description="doors knocked", ordering="knocked")
    def progress(self, obj: Turf) -> str:
        knocked = getattr(obj, "knocked", 0) or 0
        if not obj.door_count:
            return "—"
        percent = min(100, round(100 * knocked / obj.door_count))
        return format_html("{} of {} ({}%)", f"{knocked:,}", f"{obj.door_count:,}", percent)

    @admin.display(description="last knock", ordering="last_day")
    def last_knock(self, obj: Turf) -> str:
        day = getattr(obj, "last_day", None)
        return f"{day:%a} {day.day} {day:%b}" if day else "—"

    @admin.display(description="walk", ordering="walk_distance_m")
    def walk_km(self, obj: Turf) -> str:
        # 0.1 km: what a canvasser can plan by (rounded to whole km, 1.4 and 0.6 both read "1").
        if obj.walk_distance_m is None:
            return "—"
        minutes = f", about {round(obj.walk_minutes)} min" if obj.walk_minutes else ""
        return f"{obj.walk_distance_m / 1000:.1f} km{minutes}"

    def changelist_view(self, request, extra_context=None):
        organization = organization_for(request.user)
        canvassers: list[tuple[int, str]] = []
        if organization is not None:
            canvassers = [
                (user.pk, user.get_full_name() or user.get_username())
                for user in UserModel.objects.filter(
                    membership__organization=organization, membership__is_active=True, is_active=True
                ).order_by("first_name", "username")
            ]
        return super().changelist_view(request, {**(extra_context or {}), "canvasser_choices": canvassers})

    def has_assign_permission(self, request) -> bool:
        assignments = self.admin_site._registry.get(Assignment)
        return assignments is not None and assignments.has_add_permission(request)

    @admin.action(description="Assign the selected turfs to the canvasser chosen beside", permissions=["assign"])
    def assign_to_canvasser(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Turf]) -> None:
        """One assignment per turf, starting now, through assignment_create (as the
        assignment admin and the API). A turf somebody holds already is left as it
        is and named: handing it out twice from a list is a slip, not a plan."""
        organization = organization_for(request.user)
        user_id = parse_id(request.POST.get("canvasser"))
        canvasser = None
        if organization is not None and user_id is not None:
            canvasser = UserModel.objects.filter(
                pk=user_id, membership__organization=organization, membership__is_active=True, is_active=True
            ).first()
        if canvasser is None:
            self.message_user(
                request, "Choose a canvasser of your organization in the list beside the action.", messages.ERROR
            )
            return
        assert organization is not None
        done: list[str] = []
        taken: list[str] = []
        refused: list[str] = []
        for turf in queryset.order_by("number", "name"):
            label = f"{turf.number} ({turf.name})" if turf.number is not None else turf.name
            try:
                with transaction.atomic():
                    # Locked, then checked: two organizers handing out the same turf at once give it once.
                    locked = Turf.objects.select_for_update().get(pk=turf.pk)
                    if turf_selectors.turfs_with_current_assignments(Turf.objects.filter(pk=locked.pk)).exists():
                        taken.append(label)
                        continue
                    assignment_create(
                        organization=organization, actor=request.user, turf=locked, canvassers=[canvasser]
                    )
            except ValidationError as exc:
                refused.append(f"{label}: {refusal_text(exc)}")
                continue
            done.append(label)
        who = canvasser.get_full_name() or canvasser.get_username()
        if done:
            self.message_user(request, f"Assigned to {who}: turf {', '.join(done)}.", messages.SUCCESS)
        if taken:
            self.message_user(
                request,
                f"Already assigned, left as they are: turf {', '.join(taken)} "
                "(end their assignment first to hand them to someone else).",
                messages.WARNING,
            )
        for text in refused:
            self.message_user(request, f"Not assigned: turf {text}", messages.ERROR)

    def get_readonly_fields(self, request, obj=None):
        # Archived by the action (which refuses a turf somebody is assigned to), never deleted:
        # the knocks and the stats keep pointing at it.
        return (*super().get_readonly_fields(request, obj), "campaign", "status")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changed = {name: getattr(obj, name) for name in form.changed_data if name in turf_services.TURF_EDITABLE}
        turf_services.turf_update(turf=obj, actor=request.user, **changed)

    def has_archive_permission(self, request) -> bool:
        return self.has_change_permission(request)

    @admin.action(description="Archive the selected turfs", permissions=["archive"])
    def archive(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Turf]) -> None:
        turfs = list(queryset.filter(status=Turf.Status.ACTIVE))
        with transaction.atomic():  # all or none: one in use refuses the lot
            for turf in turfs:
                turf_services.turf_archive(turf=turf, actor=request.user)
        self.message_user(request, f"Archived {len(turfs)} turf(s).")


@admin.register(TurfCutJob)
class TurfCutJobAdmin(OrganizationScopedAdmin):
    """Cuts started from a campaign's "Cut turfs…": their progress and summary. Read-only."""

    view_only = True
    access_scope = staticmethod(turf_cut_jobs_for_user)
    list_display = ("campaign", "target_doors", "status", "progress", "message", "created_by", "created_at")
    list_filter = (scoped_filter("campaign"), "status")
    list_select_related = ("campaign", "created_by")
    fields = (
        "campaign",
        "status",
        "next_steps",
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

    @admin.display(description="next")
    def next_steps(self, job: TurfCutJob) -> str:
        """Where the organizer goes from a finished cut: its turfs on the map, then the free ones to hand out."""
        if job.status != TurfCutJob.Status.DONE:
            return "—" if job.status == TurfCutJob.Status.FAILED else "when the cut is done: its turfs on the map"
        made = job.summary.get("turfs") if isinstance(job.summary.get("turfs"), int) else None
        free = reverse("admin:canvass_turf_changelist") + f"?campaign__id__exact={job.campaign_id}&assignment=free"
        return format_html(
            '<a class="button" href="{}">See the {}new turfs on the map</a> · <a href="{}">hand them out from the '
            'turf list (free turfs)</a> · <a href="{}">the dashboard</a>',
            reverse("admin:canvass_campaign_turf_map", args=[job.campaign_id]),
            f"{made:,} " if made else "",
            free,
            reverse("admin:canvass_campaign_dashboard", args=[job.campaign_id]),
        )

    @admin.display(description="notes")
    def notes(self, job: TurfCutJob) -> str:
        return "\n".join(job.summary.get("notes", [])) if job.summary else ""

    def changelist_view(self, request, extra_context=None):
        running = self.get_queryset(request).filter(status__in=[TurfCutJob.Status.QUEUED, TurfCutJob.Status.RUNNING])
        return super().changelist_view(request, {**(extra_context or {}), "jobs_running": running.exists()})
