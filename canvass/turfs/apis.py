"""The organizer's turf API: list (with GeoJSON), cut, draw, split, merge, archive.

Thin views: validate the input, look objects up through their access check
(canvass/access.py: 404 alike for missing and foreign), call one service.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from canvass import access
from canvass.campaigns.models import Campaign
from canvass.turfs import services as turf_services
from canvass.turfs.models import Turf
from canvass.turfs.schemas import TurfFeatureCollection
from canvass.turfs.serializers import (
    TurfCutInput,
    TurfCutJobOutput,
    TurfDetailOutput,
    TurfDrawInput,
    TurfDrawOutput,
    TurfListOutput,
    TurfMergeInput,
    TurfOutput,
    TurfSplitInput,
)
from fieldops.api.params import query_id
from fieldops.api.parsers import JSONParser
from fieldops.api.permissions import IsManager, IsStaffMember
from fieldops.api.schema import PAGE_PARAMETERS, conflict, id_parameter, paginated
from fieldops.api.views import OrganizationTimeView
from fieldops.request_types import AuthenticatedRequest
from turf.access import layers_for_user

NOT_CHANGEABLE = conflict("a turf is archived, or canvassers are assigned to it (end those assignments first).")


def _turf(request: Request, turf_id: int) -> Turf:
    return access.turf_for_user(request.user, turf_id, Turf.objects.select_related("district__layer"))


def _turfs(request: Request) -> QuerySet[Turf]:
    return access.turfs_for_user(request.user, Turf.objects.select_related("district__layer"))


def _campaign_from_body(request: Request, campaign_id: int) -> Campaign:
    campaign = access.campaigns_for_user(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise ValidationError({"campaign": ["No campaign with this id in your organization."]})
    return campaign


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _filtered(request: Request) -> QuerySet[Turf]:
    turfs = _turfs(request)
    campaign = query_id(request, "campaign")
    if campaign is not None:
        turfs = turfs.filter(campaign_id=campaign)
    wanted = request.query_params.get("status", Turf.Status.ACTIVE)
    if wanted not in ("all", *Turf.Status.values):
        raise ValidationError({"status": ["Use active, archived or all."]})
    if wanted != "all":
        turfs = turfs.filter(status=wanted)
    return turfs.order_by("campaign_id", "name")


_LIST_PARAMETERS = [
    id_parameter("campaign", "only this campaign's turfs"),
    OpenApiParameter("status", str, enum=["active", "archived", "all"], description="default: active"),
]


class TurfListApi(OrganizationTimeView):
    """GET: the organization's turfs with their polygons and metrics. POST: a turf drawn as a polygon."""

    # A drawn polygon is a GeoJSON object: the body is JSON (a form could carry it only as text).
    parser_classes = [JSONParser]

    def get_permissions(self):
        return [IsManager()] if self.request.method == "POST" else [IsStaffMember()]

    @extend_schema(
        parameters=[*_LIST_PARAMETERS, *PAGE_PARAMETERS], operation_id="turfs_list", responses=paginated(TurfOutput)
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        from fieldops.api.pagination import DefaultPagination

        paginator = DefaultPagination()
        page = paginator.paginate_queryset(_filtered(request), request, view=self)
        return paginator.get_paginated_response(TurfOutput(page, many=True).data)

    @extend_schema(
        request=TurfDrawInput,
        responses={
            201: TurfDrawOutput,
            409: conflict(
                "every door inside the polygon is already in an active turf of the campaign "
                "(archive or split those turfs, or draw where doors are free)."
            ),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _validated(TurfDrawInput, request)
        campaign = _campaign_from_body(request, data["campaign"])
        drawn = turf_services.turf_create_from_polygon(
            campaign=campaign, geojson=data["polygon"], name=data["name"], actor=request.user
        )
        body = {
            "turf": TurfOutput(drawn.turf).data,
            "already_in_turfs": [{"door": door, "turf": turf} for door, turf in sorted(drawn.already_in_turfs.items())],
        }
        return Response(body, status=status.HTTP_201_CREATED)


class TurfGeoJsonApi(OrganizationTimeView):
    """The turfs as one GeoJSON FeatureCollection, for a map (not paginated)."""

    permission_classes = [IsStaffMember]

    @extend_schema(parameters=_LIST_PARAMETERS, responses={200: TurfFeatureCollection})
    def get(self, request: AuthenticatedRequest) -> Response:
        features = []
        for turf in _filtered(request):
            properties = dict(TurfOutput(turf).data)
            geometry = properties.pop("polygon")
            features.append({"type": "Feature", "id": turf.pk, "geometry": geometry, "properties": properties})
        return Response({"type": "FeatureCollection", "features": features})


class TurfDetailApi(OrganizationTimeView):
    """One turf with its doors in walk order (addresses, no people)."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=TurfDetailOutput)
    def get(self, request: AuthenticatedRequest, turf_id: int) -> Response:
        turf = _turf(request, turf_id)
        doors = [
            {
                "walk_order": td.position + 1,
                "door": td.door_id,
                "address": td.door.display_address,
                "building_key": td.door.building_key,
                "lat": td.door.lat,
                "lng": td.door.lng,
            }
            for td in turf.turf_doors.select_related("door").order_by("position")
        ]
        data = dict(TurfOutput(turf).data)
        data["doors"] = doors
        return Response(data)


class TurfSplitApi(OrganizationTimeView):
    permission_classes = [IsManager]

    @extend_schema(request=TurfSplitInput, responses={201: TurfListOutput, 409: NOT_CHANGEABLE})
    def post(self, request: AuthenticatedRequest, turf_id: int) -> Response:
        turf = _turf(request, turf_id)
        data = _validated(TurfSplitInput, request)
        new = turf_services.turf_split(turf=turf, parts=data["parts"], actor=request.user)
        return Response({"turfs": TurfOutput(new, many=True).data}, status=status.HTTP_201_CREATED)


class TurfMergeApi(OrganizationTimeView):
    permission_classes = [IsManager]

    @extend_schema(request=TurfMergeInput, responses={201: TurfOutput, 409: NOT_CHANGEABLE})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _validated(TurfMergeInput, request)
        wanted = set(data["turfs"])
        turfs = list(_turfs(request).select_related("campaign").filter(pk__in=wanted))
        if len(turfs) != len(wanted):
            missing = sorted(wanted - {t.pk for t in turfs})
            raise ValidationError({"turfs": [f"No turf with id {', '.join(map(str, missing))} in your organization."]})
        merged = turf_services.turfs_merge(turfs=turfs, name=data["name"], actor=request.user)
        return Response(TurfOutput(merged).data, status=status.HTTP_201_CREATED)


class TurfArchiveApi(OrganizationTimeView):
    permission_classes = [IsManager]

    @extend_schema(request=None, responses={200: TurfOutput, 409: NOT_CHANGEABLE})
    def post(self, request: AuthenticatedRequest, turf_id: int) -> Response:
        turf = _turf(request, turf_id)
        turf = turf_services.turf_archive(turf=turf, actor=request.user)
        return Response(TurfOutput(turf).data)


class CampaignCutTurfsApi(OrganizationTimeView):
    """Start an automatic cut; a worker runs it. Poll the job for progress and the summary."""

    permission_classes = [IsManager]

    @extend_schema(request=TurfCutInput, responses={202: TurfCutJobOutput})
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = access.campaign_for_user(request.user, campaign_id)
        data = _validated(TurfCutInput, request)
        layer = None
        if data["layer"] is not None:
            layer = (
                layers_for_user(request.user).filter(organization_id=campaign.organization_id, pk=data["layer"]).first()
            )
            if layer is None:
                raise ValidationError({"layer": ["No district layer with this id in your organization."]})
        job = turf_services.turf_cut_job_start(
            campaign=campaign,
            target_doors=data["target_doors"],
            layer=layer,
            only_unknocked=data["only_unknocked"],
            replace=data["replace"],
            actor=request.user,
        )
        job.refresh_from_db()
        return Response(
            TurfCutJobOutput(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/turf-cut-jobs/{job.pk}/"},
        )


class TurfCutJobApi(OrganizationTimeView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=TurfCutJobOutput)
    def get(self, request: AuthenticatedRequest, job_id: int) -> Response:
        job = access.turf_cut_job_for_user(request.user, job_id)
        return Response(TurfCutJobOutput(job).data)
