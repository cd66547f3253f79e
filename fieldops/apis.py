"""API views of the core app."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fieldops.access import membership_for
from fieldops.serializers import MeSerializer


class MeApi(APIView):
    """Who am I: the user, their organization, role and the organization's time zone."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        membership = membership_for(user)
        org = membership.organization if membership else None
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "organization": {"id": org.pk, "slug": org.slug, "name": org.name} if org else None,
            "role": membership.role if membership else None,
            "timezone": org.timezone if org else settings.TIME_ZONE,
        }
        return Response(MeSerializer(data).data)
