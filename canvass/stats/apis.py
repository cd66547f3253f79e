"""The organizer's stats API: per district, day, turf and canvasser of a campaign.

Read-only, for the organization's organizers, admins and team leads (a
canvasser gets 403; another organization's campaign answers 404 like a
missing one). Numbers come from the stats tables, minutes behind the street.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canvass import access
from canvass.campaigns.models import Campaign
from canvass.stats import selectors as stats_selectors
from canvass.stats.schemas import campaign_results
from canvass.stats.serializers import (
    CanvasserStatsOutput,
    DayStatsOutput,
    DistrictQueryInput,
    DistrictStatsOutput,
    StatsQueryInput,
    TurfQueryInput,
    TurfStatsOutput,
)
from fieldops.api.permissions import IsStaffMember
from fieldops.request_types import AuthenticatedRequest
from turf.access import layers_for_user

# fieldops/date_bounds.py: the calendar fieldops uses, 1970-01-01 to 2100-12-31.
_DAY = {"type": "string", "format": "date", "pattern": r"^(19[7-9][0-9]|20[0-9]{2}|2100)-"}
_RANGE = [
    OpenApiParameter(
        "date_from", _DAY, description="first local day, YYYY-MM-DD, 1970-01-01 to 2100-12-31 (fieldops/date_bounds.py)"
    ),
    OpenApiParameter("date_to", _DAY, description="last local day, YYYY-MM-DD; at most 3,660 days after date_from"),
]


class IsStatsReader(IsStaffMember):
    message = "Only the organization's organizers and team leads can read its stats."


class _StatsApi(APIView):
    permission_classes = [IsStatsReader]
    input_class = StatsQueryInput

    def campaign_and_params(self, request: Request, campaign_id: int) -> tuple[Campaign, dict]:
        campaign = access.campaign_for_user(request.user, campaign_id)
        serializer = self.input_class(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return campaign, serializer.validated_data


class CampaignDistrictStatsApi(_StatsApi):
    input_class = DistrictQueryInput

    @extend_schema(
        parameters=[OpenApiParameter("layer", int, description="a district layer id"), *_RANGE],
        operation_id="stats_campaigns_districts_list",
        responses=campaign_results(DistrictStatsOutput),
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign, params = self.campaign_and_params(request, campaign_id)
        layer = None
        if "layer" in params:
            layers = layers_for_user(request.user).filter(organization_id=campaign.organization_id)
            layer = layers.filter(pk=params["layer"]).first()
            if layer is None:
                raise ValidationError({"layer": ["No district layer with this id in your organization."]})
        rows = stats_selectors.district_stats(
            campaign=campaign, layer=layer, date_from=params.get("date_from"), date_to=params.get("date_to")
        )
        return Response({"campaign": campaign.pk, "results": DistrictStatsOutput(rows, many=True).data})


class CampaignDayStatsApi(_StatsApi):
    @extend_schema(
        operation_id="stats_campaigns_days_list", parameters=_RANGE, responses=campaign_results(DayStatsOutput)
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign, params = self.campaign_and_params(request, campaign_id)
        rows = stats_selectors.day_stats(
            campaign=campaign, date_from=params.get("date_from"), date_to=params.get("date_to")
        )
        return Response({"campaign": campaign.pk, "results": DayStatsOutput(rows, many=True).data})


class CampaignTurfStatsApi(_StatsApi):
    input_class = TurfQueryInput

    @extend_schema(
        parameters=[*_RANGE, OpenApiParameter("include_archived", bool)],
        operation_id="stats_campaigns_turfs_list",
        responses=campaign_results(TurfStatsOutput),
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign, params = self.campaign_and_params(request, campaign_id)
        rows = stats_selectors.turf_stats(
            campaign=campaign,
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            include_archived=params["include_archived"],
        )
        return Response({"campaign": campaign.pk, "results": TurfStatsOutput(rows, many=True).data})


class CampaignCanvasserStatsApi(_StatsApi):
    @extend_schema(
        operation_id="stats_campaigns_canvassers_list",
        parameters=_RANGE,
        responses=campaign_results(CanvasserStatsOutput),
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign, params = self.campaign_and_params(request, campaign_id)
        rows = stats_selectors.canvasser_stats(
            campaign=campaign, date_from=params.get("date_from"), date_to=params.get("date_to")
        )
        return Response({"campaign": campaign.pk, "results": CanvasserStatsOutput(rows, many=True).data})
