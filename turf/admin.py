"""Organizer screens of geography: district layers, districts, doors, people.

Doors and people are written by turf/services.py, which audits them and writes
the change log that phones pull, as every other writer does.

Doors run to a million rows per organization: every list here selects its
related rows in the same query, counts with annotations and skips the
unfiltered full count.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from fieldops.access import parse_id
from fieldops.admin import organization_summary
from fieldops.admin_scoping import (
    OrganizationScopedAdmin,
    ScopedRelatedFieldListFilter,
    ScopedTabularInline,
    adopt,
    changes_of,
    inline_save,
    new_row_organization,
)
from fieldops.models import Organization
from turf import services
from turf.access import districts_for_user, layers_for_user
from turf.models import District, DistrictLayer, Door, DoorDistrict, Person

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _LayerCounts(TypedDict):  # what DistrictLayerAdmin.get_queryset annotates
    _district_count: int
    _door_count: int


class _DoorCount(TypedDict):  # what DistrictAdmin.get_queryset annotates
    _door_count: int


def _polygon_svg(geojson: dict, size: int = 220) -> str:
    """A small outline of a (Multi)Polygon, drawn in its bounding box."""
    if not isinstance(geojson, dict):
        return ""
    kind, coordinates = geojson.get("type"), geojson.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    rings = [ring for polygon in polygons for ring in polygon if ring]
    points = [point for ring in rings for point in ring]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    min_x, min_y = min(xs), min(ys)
    span = max(max(xs) - min_x, max(ys) - min_y) or 1.0
    scale = (size - 10) / span
    paths = []
    for ring in rings:
        # y grows downwards in SVG and northwards on the map.
        coords = " ".join(f"{5 + (x - min_x) * scale:.1f},{size - 5 - (y - min_y) * scale:.1f}" for x, y, *_ in ring)
        paths.append(f"M{coords}Z")
    return format_html(
        '<svg width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="district outline">'
        '<path d="{}" fill="#79aec8" fill-opacity="0.4" stroke="#417690" stroke-width="1" '
        'fill-rule="evenodd"/></svg>',
        size,
        size,
        size,
        size,
        " ".join(paths),
    )


@admin.register(DistrictLayer)
class DistrictLayerAdmin(OrganizationScopedAdmin):
    list_display = ("name", "district_count", "door_count", "source", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")
    access_scope = staticmethod(layers_for_user)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _district_count=Count("districts", distinct=True),
                # A door in two districts of one layer counts once.
                _door_count=Count("districts__door_links__door", distinct=True),
            )
        )

    def save_model(self, request, obj, form, change):
        if change:
            services.district_layer_update(layer=obj, actor=request.user, **changes_of(form, services.LAYER_EDITABLE))
            return
        fields = {name: form.cleaned_data[name] for name in services.LAYER_EDITABLE if name in form.cleaned_data}
        layer = services.district_layer_create(
            organization=new_row_organization(request, obj),
            actor=request.user,
            **fields,
        )
        adopt(obj, layer)

    def delete_model(self, request, obj):
        services.district_layer_delete(layer=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for layer in queryset.select_related("organization"):
                services.district_layer_delete(layer=layer, actor=request.user)

    @admin.display(description="districts", ordering="_district_count")
    def district_count(self, obj: WithAnnotations[DistrictLayer, _LayerCounts]) -> int:
        return obj._district_count

    @admin.display(description="doors assigned", ordering="_door_count")
    def door_count(self, obj: WithAnnotations[DistrictLayer, _LayerCounts]) -> int:
        return obj._door_count


@admin.register(District)
class DistrictAdmin(OrganizationScopedAdmin):
    # Districts come from importing a boundary file (manage.py import_districts).
    addable = False
    list_display = ("name", "layer", "external_id", "door_count", "repaired")
    list_filter = (("layer", ScopedRelatedFieldListFilter), "repaired")
    search_fields = ("name", "external_id")
    list_select_related = ("layer",)
    exclude = ("wkb",)
    readonly_fields = (
        "outline",
        "geojson_pretty",
        "min_lng",
        "min_lat",
        "max_lng",
        "max_lat",
        "repaired",
        "created_at",
        "updated_at",
    )
    fields = ("layer", "external_id", "name", "properties", *readonly_fields)
    access_scope = staticmethod(districts_for_user)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_door_count=Count("door_links"))

    def get_readonly_fields(self, request, obj=None):
        # Its layer, like its geometry, is the boundary file's.
        return ("layer", *super().get_readonly_fields(request, obj))

    def save_model(self, request, obj, form, change):
        services.district_update(district=obj, actor=request.user, **changes_of(form, services.DISTRICT_EDITABLE))

    def delete_model(self, request, obj):
        services.district_delete(district=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for district in queryset.select_related("organization", "layer"):
                services.district_delete(district=district, actor=request.user)

    @admin.display(description="doors", ordering="_door_count")
    def door_count(self, obj: WithAnnotations[District, _DoorCount]) -> int:
        return obj._door_count

    @admin.display(description="outline")
    def outline(self, obj: District) -> str:
        return _polygon_svg(obj.geojson)

    @admin.display(description="GeoJSON")
    def geojson_pretty(self, obj: District) -> str:
        text = json.dumps(obj.geojson, indent=1)
        if len(text) > 20_000:
            text = text[:20_000] + "\n… (cut; the full geometry is in the export)"
        return format_html('<pre style="max-height: 20em; overflow: auto">{}</pre>', text)


class DistrictFilter(admin.SimpleListFilter):
    """Doors by the district they lie in, over the user's organization's districts."""

    title = "district"
    parameter_name = "district"

    def lookups(self, request, model_admin):
        districts = districts_for_user(request.user, District.objects.select_related("layer"))
        districts = districts.order_by("layer__name", "name")
        return [(str(d.pk), f"{d.layer.name}: {d.name}") for d in districts]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        district_id = parse_id(value)
        if district_id is None:
            return queryset.none()
        # One row per (door, district): the join cannot repeat a door.
        return queryset.filter(district_links__district_id=district_id)


def people_save(request, formset, *, door: Door) -> None:
    """The people inline of a door, row by row through the person services."""
    actor = request.user
    inline_save(
        formset,
        # The door is the inline's parent, never typed on a row.
        editable=services.PERSON_EDITABLE - {"door"},
        create=lambda fields: services.person_create(door=door, actor=actor, **fields),
        update=lambda person, changes: services.person_update(person=person, actor=actor, **changes),
        delete=lambda person: services.person_delete(person=person, actor=actor),
    )


class PersonInline(ScopedTabularInline):
    model = Person
    fields = ("first_name", "last_name", "external_voter_id", "phone", "email", "birth_year", "party")


@admin.register(Door)
class DoorAdmin(OrganizationScopedAdmin):
    list_display = ("display_address", "unit", "building_key", "zip", "geocode_quality", "source_id")
    list_filter = ("geocode_quality", "street_type", DistrictFilter)
    # Building keys are searched whole ("b:060372733001-160"): the doors of one building.
    # A street name also finds the doors it is another spelling of ("SR-1" finds Lincoln Blvd's).
    search_fields = (
        "street_name",
        "=number",
        "=source_id",
        "address_key",
        "=building_key",
        "aliases__street_name",
        "aliases__address_key",
    )
    # A count of a million rows on every page is the slowest query of the page.
    show_full_result_count = False
    inlines = [PersonInline]
    readonly_fields = ("district_list", "alias_list", "source", "source_id", "extra", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        # The form has put its values on obj; the service writes them.
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.DOOR_EDITABLE}
            services.door_update(door=obj, actor=request.user, **changed)
            return
        door = services.door_create(
            organization=new_row_organization(request, obj),
            actor=request.user,
            address_key=obj.address_key,
            **{name: getattr(obj, name) for name in form.fields if name in services.DOOR_EDITABLE},
        )
        # The admin logs and redirects to `obj`, and saves the people inline against it.
        obj.pk, obj.organization_id = door.pk, door.organization_id
        obj.created_at, obj.updated_at, obj.geocode_quality = door.created_at, door.updated_at, door.geocode_quality
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not Person:
            return super().save_formset(request, form, formset, change)
        people_save(request, formset, door=form.instance)
        return None

    def delete_model(self, request, obj):
        services.door_delete(door=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for door in queryset.select_related("organization"):
                services.door_delete(door=door, actor=request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # The normalized address is the door's identity, computed on import;
        # it is typed only when a door is added by hand.
        return ("address_key", *fields) if obj is not None else fields

    @admin.display(description="address", ordering="street_name")
    def display_address(self, obj: Door) -> str:
        return obj.display_address

    @admin.display(description="districts")
    def district_list(self, obj: Door) -> str:
        links = (
            DoorDistrict.objects.filter(door=obj)
            .select_related("district__layer")
            .order_by("district__layer__name", "district__name")
        )
        if not links:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}: {}</li>", ((ln.district.layer.name, ln.district.name) for ln in links)),
        )

    @admin.display(description="other spellings")
    def alias_list(self, obj: Door) -> str:
        """The spellings that name this door too (imports and voter files written with them find it)."""
        aliases = list(obj.aliases.order_by("street_name"))
        if not aliases:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(a).rsplit(" (", 1)[0],) for a in aliases))
        )


@admin.register(Person)
class PersonAdmin(OrganizationScopedAdmin):
    list_display = ("__str__", "external_voter_id", "door", "party", "birth_year")
    search_fields = ("last_name", "first_name", "=external_voter_id")
    list_select_related = ("door",)
    raw_id_fields = ("door",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        # The form has put its values on obj; the service writes them.
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in services.PERSON_EDITABLE}
            services.person_update(person=obj, actor=request.user, **changed)
            return
        fields = {name: getattr(obj, name) for name in form.fields if name in services.PERSON_EDITABLE}
        door = fields.pop("door")
        person = services.person_create(door=door, actor=request.user, **fields)
        obj.pk, obj.organization_id = person.pk, person.organization_id
        obj.created_at, obj.updated_at = person.created_at, person.updated_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.person_delete(person=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for person in queryset.select_related("organization"):
                services.person_delete(person=person, actor=request.user)


@organization_summary
def door_summary(organization: Organization) -> str:
    """Say "15,412 doors in 11,907 buildings" on the organization's page, in one query.

    Counting distinct building keys reads and sorts every door of the
    organization (measured 1.3-1.5 s for a million doors, all keys distinct,
    on PostgreSQL): fine on this one page, too slow for the door list, which
    skips even its full count.
    """
    counts = Door.objects.filter(organization=organization).aggregate(
        doors=Count("pk"),
        buildings=Count("building_key", distinct=True, filter=~Q(building_key="")),
    )
    return f"{counts['doors']:,} doors in {counts['buildings']:,} buildings"
