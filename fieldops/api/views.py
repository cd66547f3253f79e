"""Base for API views that show times: in the caller's organization's zone."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.views import APIView

from fieldops.access import organization_for


class OrganizationTimeView(APIView):
    """Datetimes in responses carry the organization's UTC offset.

    "2026-11-28T09:00:00-08:00" is both an aware ISO 8601 instant for the phone
    and the local time a volunteer reads. Input may use any offset.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        organization = organization_for(request.user)
        if organization is not None:
            timezone.activate(organization.tzinfo)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Rendering happens later, but DRF serializers have already turned the
        # datetimes into strings in the view.
        timezone.deactivate()
        return response
