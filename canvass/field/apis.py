"""Field-work API for phones and organizers: shifts, assignments, walk lists.

Thin views: validate input, call one selector or service. Roles (see docs/api.md):
admins and organizers manage (create shifts and assignments, end, reassign,
mark no-shows); team leads read their organization's rosters, assignments and
walk lists (as in the admin, where they view and do not change); every member,
team leads and organizers included, signs up for shifts and works the
assignments given to them.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from canvass import access
from canvass.field import selectors, services
from canvass.field.models import Assignment, Shift
from canvass.field.serializers import (
    AssignmentInputSerializer,
    AssignmentOutputSerializer,
    CheckInInputSerializer,
    NoShowInputSerializer,
    ReassignInputSerializer,
    RosterEntrySerializer,
    ShiftInputSerializer,
    ShiftOutputSerializer,
    SignupOutputSerializer,
    WalkListSerializer,
)
from canvass.sync.selectors import sync_cursor_at_head
from fieldops.access import membership_for
from fieldops.api.pagination import paginated_response
from fieldops.api.params import query_id
from fieldops.api.permissions import IsManager, IsMember, IsStaffMember
from fieldops.api.schema import PAGE_PARAMETERS, conflict, id_parameter, paginated
from fieldops.api.views import OrganizationTimeView
from fieldops.request_types import AuthenticatedRequest
from fieldops.services import audit_log

NOT_FOUND = OpenApiResponse(description="No such object of yours (missing and foreign alike).")


# --- Shifts -------------------------------------------------------------------------


class ShiftListApi(OrganizationTimeView):
    """Upcoming shifts (not ended) of the organization with places left (GET, any member);
    an organizer schedules one (POST)."""

    def get_permissions(self):
        return [IsManager()] if self.request.method == "POST" else [IsMember()]

    @extend_schema(parameters=PAGE_PARAMETERS, operation_id="shifts_list", responses=paginated(ShiftOutputSerializer))
    def get(self, request: AuthenticatedRequest) -> Response:
        shifts = selectors.shifts_upcoming(access.shifts_for_user(request.user), request.user)
        return paginated_response(self, request, shifts, ShiftOutputSerializer)

    @extend_schema(request=ShiftInputSerializer, responses={201: ShiftOutputSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ShiftInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        organization = data.validated_data.pop("organization")
        shift = services.shift_create(organization=organization, actor=request.user, **data.validated_data)
        return Response(
            ShiftOutputSerializer(_shift(request, shift.pk)).data,
            status=status.HTTP_201_CREATED,
        )


def _shift(request: AuthenticatedRequest, shift_id: object) -> Shift:
    """The shift through its access check, with the caller's own sign-up (selectors.with_my_signup)."""
    shifts = selectors.with_my_signup(Shift.objects.select_related("campaign"), request.user)
    return access.shift_for_user(request.user, shift_id, shifts)


class ShiftDetailApi(OrganizationTimeView):
    permission_classes = [IsMember]

    @extend_schema(responses={200: ShiftOutputSerializer, 404: NOT_FOUND})
    def get(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        return Response(ShiftOutputSerializer(_shift(request, shift_id)).data)


class _SignupActionApi(OrganizationTimeView):
    permission_classes = [IsMember]

    def respond(self, shift, signup, code=status.HTTP_200_OK) -> Response:
        shift.refresh_from_db(fields=["signup_count"])
        return Response(SignupOutputSerializer(signup, context={"shift": shift}).data, status=code)


class ShiftSignupApi(_SignupActionApi):
    """Take a place on the shift (again after cancelling). 201 when a place was
    taken, 200 when already signed up; 409 when the shift is full."""

    @extend_schema(
        request=None,
        responses={
            201: SignupOutputSerializer,
            200: SignupOutputSerializer,
            409: conflict("the shift is full or over, or the organizer marked you a no-show."),
            404: NOT_FOUND,
        },
    )
    def post(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        already = shift.my_status == "signed_up"  # type: ignore[attr-defined]  # annotated by selectors.with_my_signup
        signup = services.shift_signup(shift=shift, user=request.user)
        return self.respond(shift, signup, status.HTTP_200_OK if already else status.HTTP_201_CREATED)


class ShiftCancelApi(_SignupActionApi):
    """Give the place back (idempotent)."""

    @extend_schema(
        request=None,
        responses={
            200: SignupOutputSerializer,
            404: NOT_FOUND,
            409: conflict("not signed up for this shift, or already checked in."),
        },
    )
    def post(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        return self.respond(shift, services.shift_cancel(shift=shift, user=request.user))


class ShiftCheckInApi(_SignupActionApi):
    """Check in; with the phone's location the distance to the staging place is kept."""

    @extend_schema(
        request=CheckInInputSerializer,
        responses={
            200: SignupOutputSerializer,
            404: NOT_FOUND,
            409: conflict("not signed up, check-in not open yet (the message says when), or the shift is over."),
        },
    )
    def post(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        data = CheckInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signup = services.shift_check_in(shift=shift, user=request.user, **data.validated_data)
        return self.respond(shift, signup)


class ShiftCheckOutApi(_SignupActionApi):
    @extend_schema(
        request=None,
        responses={200: SignupOutputSerializer, 404: NOT_FOUND, 409: conflict("not signed up, or not checked in.")},
    )
    def post(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        return self.respond(shift, services.shift_check_out(shift=shift, user=request.user))


class ShiftRosterApi(OrganizationTimeView):
    """Who signed up, cancelled, checked in (organizers and team leads)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        operation_id="shifts_roster_list",
        responses={200: paginated(RosterEntrySerializer), 404: NOT_FOUND},
    )
    def get(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        return paginated_response(self, request, selectors.shift_roster(shift), RosterEntrySerializer)


class ShiftNoShowApi(OrganizationTimeView):
    """Mark a signed-up volunteer who did not come (organizers); frees their place."""

    permission_classes = [IsManager]

    @extend_schema(
        request=NoShowInputSerializer,
        responses={
            200: RosterEntrySerializer,
            404: NOT_FOUND,
            409: conflict("the shift has not started, or the person is not signed up, cancelled or checked in."),
        },
    )
    def post(self, request: AuthenticatedRequest, shift_id: int) -> Response:
        shift = _shift(request, shift_id)
        data = NoShowInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        signup = services.shift_mark_no_show(shift=shift, user_id=data.validated_data["user"].pk, actor=request.user)
        return Response(RosterEntrySerializer(signup).data)


# --- Assignments ----------------------------------------------------------------------


class AssignmentListApi(OrganizationTimeView):
    """GET: current assignments. A canvasser gets their own; organizers and team
    leads get their organization's (?mine=1: only their own). POST (organizers):
    give a turf to canvassers."""

    def get_permissions(self):
        return [IsManager()] if self.request.method == "POST" else [IsMember()]

    @extend_schema(
        parameters=[
            OpenApiParameter("mine", bool, description="Organizers and team leads: only my own assignments."),
            id_parameter("turf", "Only this turf's assignments."),
            *PAGE_PARAMETERS,
        ],
        operation_id="assignments_list",
        responses=paginated(AssignmentOutputSerializer),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        mine = request.query_params.get("mine", "").lower() in ("1", "true", "yes")
        if mine:
            queryset = selectors.assignments_current_for(user)
        else:
            # Staff: the organization's current assignments; a canvasser: their own.
            queryset = access.assignments_for_user(user).filter(selectors.current_assignment_q())
        turf = query_id(request, "turf")
        if turf is not None:
            queryset = queryset.filter(turf_id=turf)
        queryset = selectors.with_list_relations(queryset).order_by("starts_at", "id")
        return paginated_response(self, request, queryset, AssignmentOutputSerializer, {"now": timezone.now()})

    @extend_schema(
        request=AssignmentInputSerializer,
        responses={201: AssignmentOutputSerializer, 409: conflict("the turf is archived.")},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = AssignmentInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        assignment = services.assignment_create(
            organization=data.validated_data["turf"].organization, actor=request.user, **data.validated_data
        )
        return Response(_assignment_output(request, assignment.pk), status=status.HTTP_201_CREATED)


def _assignment_output(request: Request, assignment_id: int) -> dict:
    assignment = access.assignment_for_user(
        request.user, assignment_id, selectors.with_list_relations(Assignment.objects.all())
    )
    return AssignmentOutputSerializer(assignment, context={"now": timezone.now()}).data


class AssignmentDetailApi(OrganizationTimeView):
    permission_classes = [IsMember]

    @extend_schema(responses={200: AssignmentOutputSerializer, 404: NOT_FOUND})
    def get(self, request: AuthenticatedRequest, assignment_id: int) -> Response:
        assignment = access.assignment_for_user(request.user, assignment_id)
        return Response(_assignment_output(request, assignment.pk))


class AssignmentEndApi(OrganizationTimeView):
    """End an assignment now (organizers). Idempotent: ending it again changes nothing."""

    permission_classes = [IsManager]

    @extend_schema(request=None, responses={200: AssignmentOutputSerializer, 404: NOT_FOUND})
    def post(self, request: AuthenticatedRequest, assignment_id: int) -> Response:
        assignment = access.assignment_for_user(request.user, assignment_id)
        services.assignment_end(assignment=assignment, actor=request.user)
        return Response(_assignment_output(request, assignment.pk))


class AssignmentReassignApi(OrganizationTimeView):
    """Replace the canvassers of a current assignment (organizers)."""

    permission_classes = [IsManager]

    @extend_schema(
        request=ReassignInputSerializer,
        responses={200: AssignmentOutputSerializer, 404: NOT_FOUND, 409: conflict("the assignment has ended.")},
    )
    def post(self, request: AuthenticatedRequest, assignment_id: int) -> Response:
        assignment = access.assignment_for_user(request.user, assignment_id)
        data = ReassignInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        services.assignment_reassign(
            assignment=assignment, canvassers=data.validated_data["canvassers"], actor=request.user
        )
        return Response(_assignment_output(request, assignment.pk))


class WalkListApi(OrganizationTimeView):
    """Everything a phone needs to walk the turf, in one response: the turf, the
    script, the result codes and the doors in walk order with the people there
    and the latest result at each. Reading it is written to the audit log."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: WalkListSerializer, 404: NOT_FOUND})
    def get(self, request: AuthenticatedRequest, assignment_id: int) -> Response:
        assignment = access.assignment_for_user(request.user, assignment_id)
        # The pull cursor first: whatever commits while the walk list is read comes again by pull.
        membership = membership_for(request.user)
        cursor = sync_cursor_at_head(membership=membership) if membership is not None else None
        body = {**selectors.walk_list(assignment), "cursor": cursor}
        audit_log(
            organization=assignment.organization,
            actor=request.user,
            action="walk_list.read",
            obj=assignment,
            turf_id=assignment.turf_id,
            doors=len(body["doors"]),
        )
        return Response(body)
