"""The organizers' login (/admin/login/), held to the phone login's limits (fieldops/logins.py):
the same windows per username and address, counted before the password is checked, and the
same "busy" answer when every password check of the process is taken. Wrong password and unknown
name get Django's one message, as does a right password of a login of no organization (or of a
deactivated member). A canvasser whose password is right is told that the admin is for
organizers, with a link to the volunteer app: only someone who knows the password learns
that the login exists."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from fieldops.access import membership_for
from fieldops.logins import LoginBusy, client_address, login_attempt


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            wait = login_attempt(str(self.data.get("username", "")), client_address(self.request))
            if wait is not None:
                minutes = max(1, math.ceil(wait / 60))
                raise ValidationError(
                    "Too many login attempts from here. Try again in %(minutes)d minute(s).",
                    code="throttled",
                    params={"minutes": minutes},
                )
        try:
            return super().clean()
        except LoginBusy:
            raise ValidationError(
                "The server is busy checking other logins; try again in a moment.", code="busy"
            ) from None

    def confirm_login_allowed(self, user: User) -> None:
        # Reached only with the right password (authenticate() found the user).
        if user.is_active and not user.is_staff and membership_for(user) is not None:
            raise ValidationError(
                format_html(
                    'The admin is for organizers. Canvassers work in the volunteer app: <a href="{}">open it</a> '
                    "and log in there with the same name and password.",
                    reverse("volunteer:page"),
                ),
                code="organizers_only",
            )
        super().confirm_login_allowed(user)
