"""Request types for views that only a signed-in user reaches (for the type checker only).

The API's default permission is IsAuthenticated, and every admin view sits behind the
admin's login, so there `request.user` is a `User`, never the `AnonymousUser` that the
framework's own annotation allows. Views annotate their `request` with these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class AuthenticatedRequest(Request):
    user: User
