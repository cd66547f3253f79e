"""Input and output shapes of the field-work API (plain Serializers, no ModelSerializer).

Output datetimes are rendered in the active zone: API views activate the
caller's organization's zone (fieldops.api.views.OrganizationTimeView).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from canvass import access
from canvass.campaigns.models import Campaign
from canvass.campaigns.serializers import CampaignRefSerializer, QuestionSerializer, ResultCodeSerializer
from canvass.field.models import SIGNUP_STATES, Shift, ShiftSignup, signup_state
from canvass.field.services import MAX_CANVASSERS_PER_ASSIGNMENT
from canvass.turfs.models import Turf
from fieldops.access import MAX_ID, organization_for, scope_to_organization
from fieldops.api.fields import BoundedDateTimeField, ScopedPrimaryKeyRelatedField


def _limit_choices(serializer: serializers.Serializer, name: str, queryset: QuerySet[Any]) -> None:
    """Offer only these rows in the related field `name` (of a many=True one, in each item)."""
    field = serializer.fields[name]
    related = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
    related.queryset = queryset  # type: ignore[attr-defined]  # serializer.fields is typed Field, not RelatedField


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")


# --- Shifts -----------------------------------------------------------------------


class ShiftOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    campaign = CampaignRefSerializer(allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    location_name = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    capacity = serializers.IntegerField()
    signup_count = serializers.IntegerField()
    places_left = serializers.SerializerMethodField()
    my_status = serializers.SerializerMethodField(
        help_text="The caller's sign-up: signed_up, checked_in, checked_out, cancelled, no_show, "
        "or null if never signed up."
    )
    my_checked_in_at = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text="When the caller checked in to this shift; null until they do."
    )
    my_checked_out_at = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text="When the caller checked out of this shift; null until they do."
    )

    def get_places_left(self, shift: Shift) -> int:
        return max(shift.capacity - shift.signup_count, 0)

    @extend_schema_field(serializers.ChoiceField(choices=SIGNUP_STATES, allow_null=True))
    def get_my_status(self, shift: Shift) -> str | None:
        return signup_state(
            getattr(shift, "my_status", None),
            getattr(shift, "my_checked_in_at", None),
            getattr(shift, "my_checked_out_at", None),
        )


class ShiftInputSerializer(serializers.Serializer):
    name = serializers.CharField(min_length=1, max_length=120)  # min_length: the schema says "not blank"
    campaign = ScopedPrimaryKeyRelatedField(
        queryset=Campaign.objects.none(), allow_null=True, required=False, default=None
    )
    starts_at = BoundedDateTimeField()
    ends_at = BoundedDateTimeField()
    location_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lat = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-180, max_value=180)
    capacity = serializers.IntegerField(min_value=1, max_value=1000, default=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _limit_choices(self, "campaign", access.campaigns_for_user(request.user).select_related("organization"))

    def validate(self, attrs):
        """The shift's organization: its campaign's, else the caller's own (the operator names a campaign)."""
        campaign = attrs.get("campaign")
        organization = campaign.organization if campaign is not None else organization_for(self.context["request"].user)
        if organization is None:
            raise serializers.ValidationError({"campaign": ["Name the campaign: you are a member of no organization."]})
        return {**attrs, "organization": organization}


class SignupOutputSerializer(serializers.Serializer):
    shift = serializers.IntegerField(source="shift_id")
    status = serializers.ChoiceField(
        source="state",
        choices=SIGNUP_STATES,
        help_text="signed_up, then checked_in after check-in and checked_out after check-out; or cancelled, no_show.",
    )
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    check_in_distance_m = serializers.FloatField(
        allow_null=True, help_text="From where the phone checked in to the staging place."
    )
    places_left = serializers.SerializerMethodField()

    def get_places_left(self, signup: ShiftSignup) -> int:
        shift = self.context["shift"]
        return max(shift.capacity - shift.signup_count, 0)


class CheckInInputSerializer(serializers.Serializer):
    lat = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-180, max_value=180)

    def validate(self, attrs):
        if (attrs["lat"] is None) != (attrs["lng"] is None):
            raise serializers.ValidationError({"lat": "Give lat and lng together, or neither."})
        return attrs


class RosterEntrySerializer(serializers.Serializer):
    user = UserRefSerializer()
    status = serializers.CharField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    check_in_distance_m = serializers.FloatField(allow_null=True)
    signed_up_at = serializers.DateTimeField(source="created_at")


class NoShowInputSerializer(serializers.Serializer):
    """Foreign and missing ids answer alike: 'Invalid pk "7" - object does not exist.' (400); a member
    of the organization who is not signed up for the shift is a state refusal of the service (409)."""

    user = ScopedPrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(), help_text="The user id of the volunteer who did not come."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.context.get("request") is not None:
            _limit_choices(self, "user", _members(self.context["request"]))


# --- Assignments --------------------------------------------------------------------


class ShiftRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class TurfRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    door_count = serializers.IntegerField()


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    turf = TurfRefSerializer()
    campaign = CampaignRefSerializer()
    shift = ShiftRefSerializer(allow_null=True)
    canvassers = serializers.SerializerMethodField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    is_current = serializers.SerializerMethodField()

    def get_canvassers(self, assignment) -> list[dict]:
        # members are prefetched (canvass.field.selectors.with_list_relations)
        return [
            {"id": m.user_id, "username": m.user.get_username(), "full_name": m.user.get_full_name()}
            for m in assignment.members.all()
        ]

    def get_is_current(self, assignment) -> bool:
        now = self.context["now"]
        return assignment.ended_at is None and (assignment.ends_at is None or assignment.ends_at > now)


def _members(request):
    """Users of the caller's organization (the operator: anyone); the service refuses inactive members by name."""
    return scope_to_organization(get_user_model().objects.all(), request.user, "membership__organization")


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "minItems": 1,
        "maxItems": MAX_CANVASSERS_PER_ASSIGNMENT,
        "description": f"User ids of active members of the organization, 1 to {MAX_CANVASSERS_PER_ASSIGNMENT}.",
    }
)
class _CanvasserIds(serializers.ManyRelatedField):
    """The canvassers' ids; the schema states their count (the service's MAX_CANVASSERS_PER_ASSIGNMENT)."""


def _canvassers_field() -> serializers.ManyRelatedField:
    return _CanvasserIds(
        child_relation=ScopedPrimaryKeyRelatedField(queryset=get_user_model().objects.none()),
        allow_empty=False,
        help_text="User ids.",
    )


def _validate_canvassers(value):
    if len(value) > 50:
        raise serializers.ValidationError("At most 50 canvassers.")
    return value


class AssignmentInputSerializer(serializers.Serializer):
    """Foreign and missing ids answer alike: 'Invalid pk "7" - object does not exist.'"""

    turf = ScopedPrimaryKeyRelatedField(queryset=Turf.objects.none())
    canvassers = _canvassers_field()
    shift = ScopedPrimaryKeyRelatedField(queryset=Shift.objects.none(), allow_null=True, required=False)
    starts_at = BoundedDateTimeField(required=False, allow_null=True, help_text="Default: the shift's start, or now.")
    ends_at = BoundedDateTimeField(
        required=False, allow_null=True, help_text="Default: the shift's end, or open until ended."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema generator
            return
        _limit_choices(self, "turf", access.turfs_for_user(request.user).select_related("organization"))
        _limit_choices(self, "shift", access.shifts_for_user(request.user))
        _limit_choices(self, "canvassers", _members(request))

    validate_canvassers = staticmethod(_validate_canvassers)


class ReassignInputSerializer(serializers.Serializer):
    canvassers = _canvassers_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.context.get("request") is not None:
            _limit_choices(self, "canvassers", _members(self.context["request"]))

    validate_canvassers = staticmethod(_validate_canvassers)


# --- The walk list (documents the shape canvass.field.selectors.walk_list builds) -----------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class LastResultSerializer(serializers.Serializer):
    result_code = serializers.CharField(help_text="ResultCode.code of the latest knock in this campaign.")
    at = serializers.DateTimeField(help_text="When it happened (corrected for the phone's clock).")


class WalkListDoorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="Place in the walk order, ascending.")
    address = serializers.CharField(help_text='Display form: "123 1/2 N MAIN ST APT 4".')
    number = serializers.CharField()
    number_suffix = serializers.CharField()
    pre_dir = serializers.CharField()
    street_name = serializers.CharField()
    street_type = serializers.CharField()
    post_dir = serializers.CharField()
    unit_type = serializers.CharField()
    unit = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip = serializers.CharField()
    building_key = serializers.CharField(help_text="Doors with the same key are in one building.")
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    people = PersonSerializer(many=True)
    last_result = LastResultSerializer(allow_null=True)


class WalkListAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    shift = serializers.IntegerField(allow_null=True)


class WalkListTurfSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    polygon = serializers.JSONField(allow_null=True, help_text="GeoJSON geometry (WGS84).")
    door_count = serializers.IntegerField()


class WalkListSerializer(serializers.Serializer):
    assignment = WalkListAssignmentSerializer()
    turf = WalkListTurfSerializer()
    campaign = CampaignRefSerializer()
    script = QuestionSerializer(many=True)
    result_codes = ResultCodeSerializer(many=True)
    doors = WalkListDoorSerializer(many=True)
    cursor = serializers.CharField(
        allow_null=True,
        help_text="A pull cursor at the change log's head as it was before this walk list was read: a phone "
        "that holds no other assignment continues from it with incremental pulls, without a snapshot.",
    )
