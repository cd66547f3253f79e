"""The campaign's turf map in the admin: an interactive map (Leaflet, shipped by django-leaflet)
on which an organizer sees districts, doors and turfs, and draws, reshapes, splits and merges
turfs. docs/turfs.md, "The turf map".

The page carries no inline script (the Content-Security-Policy allows scripts from this
server only): canvass/static/canvass/turf_map.js reads the URLs below from data- attributes
and fetches the layers as JSON. Map tiles come from settings.FIELDOPS_MAP_TILES_URL, whose
host is added to img-src on this page only; with no tiles the layers still show.

Every endpoint looks the campaign up through canvass/access.py (404 for another
organization's), lets staff read and managers write, and writes through
canvass/turfs/services.py.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from shapely.geometry import shape

from canvass.access import campaign_for_user, sees_whole_organization, turf_for_user
from canvass.campaigns.models import Campaign
from canvass.sync.models import ContactAttempt
from canvass.turfs import services as turf_services
from canvass.turfs.models import Turf, TurfDoor
from canvass.turfs.selectors import campaign_universe
from canvass.turfs.serializers import MAX_POLYGON_POINTS, _count_numbers
from fieldops.access import MANAGER_ROLES, has_role
from fieldops.request_types import AuthenticatedHttpRequest
from turf.models import Door
from turf.svgmap import PALETTE, Shape, svg_map

MAX_BODY_BYTES = 2_000_000

if TYPE_CHECKING:
    _CampaignAdminBase = admin.ModelAdmin[Campaign]
else:
    _CampaignAdminBase = object


class BadInput(Exception):
    """A request body the map cannot use: answered 400 with the message."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


def tile_source() -> tuple[str, str]:
    """(URL template, attribution) of the map tiles; ("", "") for none."""
    return settings.FIELDOPS_MAP_TILES_URL, settings.FIELDOPS_MAP_TILES_ATTRIBUTION


def tile_origin(url: str) -> str:
    """The img-src source for a tile URL template: its scheme and host, a {s} subdomain as *."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url.replace("{s}", "tiles-subdomain"))
    host = parts.netloc.replace("tiles-subdomain", "*")
    return f"{parts.scheme}://{host}"


def with_tile_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The map page may load images from the tile host: on this page only, read at request time."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = tile_origin(tile_source()[0])
        if not origin:
            return view(request, *args, **kwargs)
        return csp_update({"img-src": [origin]})(view)(request, *args, **kwargs)  # type: ignore[return-value]

    return wrapped


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise BadInput(f"The request is larger than {MAX_BODY_BYTES // 1_000_000} MB; simplify the shape.")
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested deeper than Python recurses
        raise BadInput("The request is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadInput("Send a JSON object.")
    return body


def _polygon(body: dict[str, Any]) -> object:
    polygon = body.get("polygon")
    if isinstance(polygon, dict) and polygon.get("type") == "Feature":
        polygon = polygon.get("geometry")
    if not isinstance(polygon, dict):
        raise BadInput("Draw a polygon.", {"polygon": ["Give a GeoJSON Polygon."]})
    if _count_numbers(polygon.get("coordinates"), limit=2 * MAX_POLYGON_POINTS) > 2 * MAX_POLYGON_POINTS:
        raise BadInput(
            "The polygon has too many points.", {"polygon": [f"More than {MAX_POLYGON_POINTS} points; simplify it."]}
        )
    return polygon


def _turf_of(request: AuthenticatedHttpRequest, campaign: Campaign, value: object) -> Turf:
    """An active turf of this campaign that the user may see; a bad id in a body is a 400."""
    try:
        return turf_for_user(
            request.user,
            value,
            Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE).select_related("campaign__organization"),
        )
    except Http404:
        raise BadInput("No such active turf in this campaign.", {"turf": ["No such turf."]}) from None


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}


def _turf_out(turf: Turf) -> dict[str, Any]:
    return {
        "id": turf.pk,
        "name": turf.name,
        "number": turf.number,
        "door_count": turf.door_count,
        "url": reverse("admin:canvass_turf_change", args=[turf.pk]),
    }


def map_context(request: HttpRequest, campaign: Campaign, *, editable: bool = True) -> dict[str, Any]:
    """What admin/canvass/campaign/_turf_map.html needs: the layer and tool URLs, the tile
    source and whether the tools show (a manager's, on the turf map page only)."""
    tiles_url, attribution = tile_source()
    return {
        "urls": {
            name: reverse(f"admin:canvass_campaign_map_{name}", args=[campaign.pk])
            for name in ("layers", "count", "draw", "reshape", "split", "merge")
        },
        "tiles_url": tiles_url,
        "tiles_attribution": attribution,
        "can_edit": editable and has_role(request.user, MANAGER_ROLES),
    }


class CampaignMapTools(_CampaignAdminBase):
    """The turf map's page and its JSON endpoints, mixed into the campaign's admin."""

    def map_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        views: list[tuple[str, Callable[..., HttpResponse], str]] = [
            ("", with_tile_policy(self.turf_map_view), "canvass_campaign_turf_map"),
            ("layers/", require_GET(self.map_layers_view), "canvass_campaign_map_layers"),
            ("count/", require_POST(self._json_view(self.map_count)), "canvass_campaign_map_count"),
            ("draw/", require_POST(self._json_view(self.map_draw, write=True)), "canvass_campaign_map_draw"),
            ("reshape/", require_POST(self._json_view(self.map_reshape, write=True)), "canvass_campaign_map_reshape"),
            ("split/", require_POST(self._json_view(self.map_split, write=True)), "canvass_campaign_map_split"),
            ("merge/", require_POST(self._json_view(self.map_merge, write=True)), "canvass_campaign_map_merge"),
        ]
        return [path(f"<path:object_id>/turf-map/{tail}", wrap(view), name=name) for tail, view, name in views]

    def _map_campaign(self, request: AuthenticatedHttpRequest, object_id: str, write: bool = False) -> Campaign:
        """canvass/access.py's chokepoint: another organization's campaign is missing; a canvasser
        (who sees the campaign but not its turfs) is refused; writing takes an organizer or admin."""
        campaign = campaign_for_user(request.user, object_id)
        if not sees_whole_organization(request.user) or (write and not has_role(request.user, MANAGER_ROLES)):
            raise PermissionDenied
        return campaign

    def _json_view(
        self,
        handler: Callable[[AuthenticatedHttpRequest, Campaign, dict[str, Any]], tuple[int, dict[str, Any]]],
        write: bool = False,
    ) -> Callable[..., HttpResponse]:
        def view(request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
            campaign = self._map_campaign(request, object_id, write=write)
            try:
                status, payload = handler(request, campaign, _json_body(request))
            except BadInput as exc:
                return JsonResponse({"detail": exc.detail, "errors": exc.errors}, status=400)
            except ValidationError as exc:
                return JsonResponse(
                    {"detail": turf_services.validation_message(exc), "errors": _errors(exc)}, status=400
                )
            return JsonResponse(payload, status=status)

        return view

    # ------------------------------------------------------------ the page and its layers

    def turf_map_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        campaign = self._map_campaign(request, object_id)
        turfs = list(
            Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
            .select_related("district")
            .order_by("district_id", "name")
        )
        # Without JavaScript (or printed), the SVG map of turf/svgmap.py: no tiles, no script.
        svg = svg_map(
            [
                Shape(
                    geometry=shape(turf.polygon),
                    fill=PALETTE[index % len(PALETTE)],
                    label=str(turf.number) if turf.number is not None else turf.name,
                    href=reverse("admin:canvass_turf_change", args=[turf.pk]),
                    title=f"{turf.name}: {turf.door_count} doors, {turf.walk_minutes or 0:.0f} min",
                )
                for index, turf in enumerate(turfs)
                if turf.polygon
            ]
        )
        for turf in turfs:
            # 0.1 km: whole kilometres read 1.4 km and 0.6 km alike.
            turf.walk_km = round(turf.walk_distance_m / 1000, 1) if turf.walk_distance_m is not None else None  # type: ignore[attr-defined]
        return render(
            request,
            "admin/canvass/campaign/turf_map.html",
            {
                **self.admin_site.each_context(request),
                "opts": Campaign._meta,
                "original": campaign,
                "campaign": campaign,
                "title": f"Turfs of {campaign}",
                "turfs": turfs,
                "svg": mark_safe(svg),  # noqa: S308 - built from escaped parts in turf/svgmap.py
                **map_context(request, campaign),
            },
        )

    def map_layers_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        """The map's layers as JSON: the target districts, the active turfs with their completion,
        and the located doors of the universe and of the turfs, knocked or not."""
        campaign = self._map_campaign(request, object_id)
        knocked = ContactAttempt.objects.counted().filter(campaign=campaign, door=OuterRef("pk"))
        turfs = list(
            Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
            .order_by("name")
            .select_related("district")
        )
        knocked_per_turf = dict(
            TurfDoor.objects.filter(turf__in=turfs)
            .filter(Exists(ContactAttempt.objects.counted().filter(campaign=campaign, door=OuterRef("door_id"))))
            .values("turf_id")
            .annotate(n=Count("door_id"))
            .values_list("turf_id", "n")
        )
        turf_of_door = dict(TurfDoor.objects.filter(turf__in=turfs).values_list("door_id", "turf_id"))
        in_turfs = TurfDoor.objects.filter(turf__in=turfs).values("door_id")
        door_rows = (
            Door.objects.filter(Q(pk__in=campaign_universe(campaign=campaign).values("pk")) | Q(pk__in=in_turfs))
            .filter(lat__isnull=False, lng__isnull=False)
            .annotate(knocked=Exists(knocked))
            .order_by("pk")
            .values_list("pk", "lat", "lng", "knocked")
        )
        districts = campaign.target_districts.all().only("pk", "name", "geojson").order_by("name")
        return JsonResponse(
            {
                "districts": {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "geometry": d.geojson, "properties": {"id": d.pk, "name": d.name}}
                        for d in districts
                    ],
                },
                "turfs": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": t.polygon,
                            "properties": {
                                **_turf_out(t),
                                "knocked": knocked_per_turf.get(t.pk, 0),
                                "completion": round(knocked_per_turf.get(t.pk, 0) / t.door_count, 3)
                                if t.door_count
                                else 0,
                                "district": t.district.name if t.district else "",
                            },
                        }
                        for t in turfs
                        if t.polygon
                    ],
                },
                # [id, lat, lng, knocked (0/1), turf id or 0]: compact, a campaign has tens of thousands.
                "doors": [
                    [pk, round(lat or 0, 6), round(lng or 0, 6), int(k), turf_of_door.get(pk, 0)]
                    for pk, lat, lng, k in door_rows  # lat and lng are not null (filtered)
                ],
            }
        )

    # ------------------------------------------------------------ JSON operations

    def map_count(
        self, request: AuthenticatedHttpRequest, campaign: Campaign, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """The doors a polygon drawn now would get (while the organizer draws)."""
        polygon = _polygon(body)
        ignore = _turf_of(request, campaign, body["turf"]) if body.get("turf") is not None else None
        counted = turf_services.doors_in_polygon(campaign=campaign, geojson=polygon, ignore_turf=ignore)
        return 200, {"doors": counted.doors, "free": counted.free, "in_turfs": counted.in_turfs}

    def map_draw(
        self, request: AuthenticatedHttpRequest, campaign: Campaign, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        name = body.get("name") or ""
        if not isinstance(name, str) or len(name) > 120:
            raise BadInput("A turf's name is text of at most 120 characters.", {"name": ["Too long."]})
        drawn = turf_services.turf_create_from_polygon(
            campaign=campaign, geojson=_polygon(body), name=name, actor=request.user
        )
        return 201, _drawn_out(drawn)

    def map_reshape(
        self, request: AuthenticatedHttpRequest, campaign: Campaign, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        turf = _turf_of(request, campaign, body.get("turf"))
        drawn = turf_services.turf_reshape(turf=turf, geojson=_polygon(body), actor=request.user)
        return 201, _drawn_out(drawn)

    def map_split(
        self, request: AuthenticatedHttpRequest, campaign: Campaign, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        turf = _turf_of(request, campaign, body.get("turf"))
        line = body.get("line")
        if isinstance(line, dict) and line.get("type") == "Feature":
            line = line.get("geometry")
        if isinstance(line, dict) and _count_numbers(line.get("coordinates"), limit=20_000) > 20_000:
            raise BadInput("The line has too many points.", {"line": ["Draw a simpler line."]})
        new = turf_services.turf_split_by_line(turf=turf, line=line, actor=request.user)
        return 201, {
            "message": f"{turf.name} is split into {', '.join(f'{t.name} ({t.door_count} doors)' for t in new)}.",
            "turfs": [_turf_out(t) for t in new],
        }

    def map_merge(
        self, request: AuthenticatedHttpRequest, campaign: Campaign, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        ids = body.get("turfs")
        if not isinstance(ids, list) or not 2 <= len(ids) <= 50:
            raise BadInput("Choose two or more turfs to merge.", {"turfs": ["Give 2 to 50 turf ids."]})
        turfs = [_turf_of(request, campaign, pk) for pk in ids]
        merged = turf_services.turfs_merge(turfs=turfs, actor=request.user)
        return 201, {
            "message": f"Merged into {merged.name} ({merged.door_count} doors).",
            "turfs": [_turf_out(merged)],
        }


def _drawn_out(drawn: turf_services.DrawnTurf) -> dict[str, Any]:
    text = f"Turf {drawn.turf.name} has {drawn.turf.door_count} doors."
    if drawn.already_in_turfs:
        others = sorted(set(drawn.already_in_turfs.values()))
        text += (
            f" {len(drawn.already_in_turfs)} doors inside stay in their turfs "
            f"({', '.join(others[:5])}{'…' if len(others) > 5 else ''})."
        )
    return {"message": text, "turfs": [_turf_out(drawn.turf)], "already_in_turfs": len(drawn.already_in_turfs)}
