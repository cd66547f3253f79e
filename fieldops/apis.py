"""API views of the core app: who am I, phone logins and their devices, members."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fieldops.access import membership_for
from fieldops.api.pagination import DefaultPagination
from fieldops.api.permissions import IsMember, IsStaffMember
from fieldops.api.schema import PAGE_PARAMETERS, paginated
from fieldops.api.views import OrganizationTimeView
from fieldops.logins import LoginBusy, LoginThrottle
from fieldops.models import DeviceToken
from fieldops.request_types import AuthenticatedRequest
from fieldops.selectors import device_token_for_user, device_tokens_visible_to, members_of_organization
from fieldops.serializers import MeSerializer
from fieldops.services import device_token_create, device_token_revoke


def me_data(user) -> dict:
    membership = membership_for(user)
    org = membership.organization if membership else None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "organization": {"id": org.pk, "slug": org.slug, "name": org.name} if org else None,
        "role": membership.role if membership else None,
        "timezone": org.timezone if org else settings.TIME_ZONE,
    }


class MeApi(APIView):
    """Who am I: the user, their organization, role and the organization's time zone."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(MeSerializer(me_data(request.user)).data)


class TokenUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class DeviceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = TokenUserSerializer()
    device_id = serializers.CharField()
    device_name = serializers.CharField()
    key_prefix = serializers.CharField(help_text="The first characters of the key, to tell tokens apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To within five minutes.")
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_current = serializers.SerializerMethodField(help_text="The token this request came with.")

    def get_is_current(self, token: DeviceToken) -> bool:
        current = self.context.get("current_token")
        return isinstance(current, DeviceToken) and current.pk == token.pk


class TokenApi(OrganizationTimeView):
    """Phone login (POST) and logout (DELETE) with a device token."""

    class TokenInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        device_id = serializers.CharField(max_length=128, help_text="Stable id the app keeps for this install.")
        device_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
        token_type = serializers.CharField()
        expires_at = serializers.DateTimeField()
        device = DeviceOutputSerializer()
        me = MeSerializer()

    def get_authenticators(self):
        # Login needs no session, so no CSRF token; logout authenticates as usual.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return super().get_permissions()

    def get_throttles(self):
        if self.request is not None and self.request.method == "POST":
            return [LoginThrottle()]
        return []

    @extend_schema(
        auth=[],
        request=TokenInputSerializer,
        responses={
            201: TokenOutputSerializer,
            400: OpenApiResponse(description="Missing fields or wrong username/password."),
            429: OpenApiResponse(description="Too many logins; retry_after_seconds says when to try again."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            user = authenticate(request._request, username=values["username"], password=values["password"])
        except LoginBusy:
            busy = "The server is busy checking other logins; try again in a moment."
            raise exceptions.Throttled(wait=1, detail=busy) from None
        if user is None or membership_for(user) is None:
            # One answer for a wrong password, an unknown name and a login of no chapter.
            raise serializers.ValidationError({"non_field_errors": ["Wrong username or password."]})
        issued = device_token_create(
            user=user,
            device_id=values["device_id"],
            device_name=values["device_name"],
            ip=LoginThrottle().get_ident(request),
        )
        timezone.activate(issued.token.organization.tzinfo)
        body = {
            "token": issued.key,
            "token_type": "Token",
            "expires_at": issued.token.expires_at,
            "device": issued.token,
            "me": me_data(user),
        }
        output = self.TokenOutputSerializer(body, context={"current_token": issued.token})
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 400: OpenApiResponse(description="The request did not use a token.")})
    def delete(self, request: AuthenticatedRequest) -> Response:
        """Log out: revoke the token this request was made with."""
        token = request.auth
        if not isinstance(token, DeviceToken):
            raise serializers.ValidationError({"non_field_errors": ["Log out with the token you logged in with."]})
        device_token_revoke(token=token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListApi(OrganizationTimeView):
    """Live device tokens: an organizer's or admin's organization's, anyone else's own."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=PAGE_PARAMETERS, operation_id="auth_devices_list", responses=paginated(DeviceOutputSerializer)
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(device_tokens_visible_to(request.user), request, view=self)
        data = DeviceOutputSerializer(page, many=True, context={"current_token": request.auth}).data
        return paginator.get_paginated_response(data)


class DeviceRevokeApi(OrganizationTimeView):
    """Revoke a device token: one's own, or as organizer any of the organization's. Idempotent."""

    permission_classes = [IsMember]

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No such device token of yours.")})
    def delete(self, request: AuthenticatedRequest, token_id: int) -> Response:
        token = device_token_for_user(request.user, token_id)
        device_token_revoke(token=token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    """The organization's active members, for organizers and team leads assigning turf."""

    permission_classes = [IsStaffMember]

    class MemberSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="user_id", help_text="The user id (use it in assignments).")
        username = serializers.CharField(source="user.username")
        full_name = serializers.CharField(source="user.get_full_name")
        role = serializers.CharField()

    @extend_schema(parameters=PAGE_PARAMETERS, operation_id="members_list", responses=paginated(MemberSerializer))
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(members_of_organization(request.user), request, view=self)
        return paginator.get_paginated_response(self.MemberSerializer(page, many=True).data)
