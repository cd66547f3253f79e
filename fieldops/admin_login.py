"""The organizers' login (/admin/login/), held to the phone login's limits (fieldops/logins.py):
the same windows per username and address, counted before the password is checked, and the
same "busy" answer when every password check of the process is taken. Wrong password, unknown
name and a login that may not use the admin all get Django's one message."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

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
