"""The phone sync endpoints: POST sync/push/ and GET sync/pull/ (docs/sync-protocol.md).

Thin views: parse, call sync_services / sync_selectors, answer. No DRF
serializer on the push path (DESIGN.md: a ModelSerializer runs a query per
item); validation is plain Python in canvass/sync/serializers.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canvass.sync.schemas import PullResponse, PushRequest, PushResponse
from canvass.sync.selectors import BadCursor, Cursor, sync_pull
from canvass.sync.serializers import PushEnvelopeError, parse_attempt, parse_push_envelope
from canvass.sync.services import REJECTED, Receipt, attempts_push
from fieldops.access import membership_for
from fieldops.api.views import OrganizationTimeView
from fieldops.models import DeviceToken, Membership
from fieldops.request_types import AuthenticatedRequest
from fieldops.versioning import API_VERSION


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Too many attempts in one batch."
    default_code = "too_large"


def _membership(request: Request) -> Membership:
    membership = membership_for(request.user)
    if membership is None:
        raise exceptions.PermissionDenied("You are not a member of an organization.")
    return membership


class SyncPushApi(APIView):
    """Upload knocks made on the phone; one receipt per item, in order."""

    @extend_schema(
        request={"application/json": PushRequest},
        responses={
            200: PushResponse,
            413: OpenApiResponse(description="More than SYNC_PUSH_MAX_ITEMS attempts, or a body too large: split it."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        membership = _membership(request)
        try:
            data = request.data  # malformed JSON: ParseError, 400
        except RequestDataTooBig:
            raise PayloadTooLarge(
                f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes. Split the batch."
            )
        try:
            device_id, sent_at, raw_items = parse_push_envelope(data)
        except PushEnvelopeError as exc:
            raise exceptions.ValidationError(exc.errors)
        limit = settings.SYNC_PUSH_MAX_ITEMS
        if len(raw_items) > limit:
            raise PayloadTooLarge(f"At most {limit} attempts per batch; this one has {len(raw_items)}. Split it.")
        items = []
        for raw in raw_items:
            parsed: dict = {}
            item_id, item, errors = parse_attempt(raw, sent_at=sent_at, partial=parsed)
            items.append(item if item is not None else Receipt(item_id or "", REJECTED, errors, partial=parsed))
        result = attempts_push(membership=membership, device_id=device_id, sent_at=sent_at, items=items)
        # "cursor" is the change-log position after this push, for the
        # phone's logs; it is not a pull cursor (see docs/sync-protocol.md).
        return Response({"results": [r.as_dict() for r in result.receipts], "cursor": str(result.position)})


MAX_HELD_ASSIGNMENTS = 200


def _held_assignments(text: str) -> frozenset[int]:
    """?assignments=1,2,3: the assignment ids the phone holds."""
    if not text:
        return frozenset()
    parts = text.split(",")
    if len(parts) > MAX_HELD_ASSIGNMENTS or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise exceptions.ValidationError(
            {"assignments": f"At most {MAX_HELD_ASSIGNMENTS} assignment ids, separated by commas."}
        )
    return frozenset(int(p) for p in parts)


class SyncPullApi(OrganizationTimeView):
    """What changed for this canvasser since the cursor; without one, a snapshot."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "cursor",
                str,
                description="The cursor of the previous page, as the server gave it (opaque); omit to start "
                "with a snapshot.",
                pattern=r"^[A-Za-z0-9_-]{1,512}$",
            ),
            OpenApiParameter(
                "assignments",
                str,
                description=f"The assignment ids the phone holds, comma-separated, at most {MAX_HELD_ASSIGNMENTS} "
                "(optional): any that is no longer the canvasser's comes back as a tombstone.",
                pattern=rf"^[0-9]{{1,18}}(,[0-9]{{1,18}}){{0,{MAX_HELD_ASSIGNMENTS - 1}}}$",
            ),
        ],
        responses={200: PullResponse},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        membership = _membership(request)
        text = request.query_params.get("cursor") or None
        cursor = None
        if text is not None:
            try:
                cursor = Cursor.decode(text, organization_id=membership.organization_id)
            except BadCursor as exc:
                raise exceptions.ValidationError({"cursor": str(exc)})
        held = _held_assignments(request.query_params.get("assignments") or "")
        try:
            # The phone that asks, from its token: the canvasser's knocks from their other phones reach it.
            device = request.auth.device_id if isinstance(request.auth, DeviceToken) else None
            page = sync_pull(membership=membership, cursor=cursor, held_assignments=held, device_id=device)
        except BadCursor as exc:
            raise exceptions.ValidationError({"cursor": str(exc)})
        # The API's version (fieldops/versioning.py), also in the X-Fieldops-Api-Version header.
        return Response({**page, "api_version": API_VERSION})
