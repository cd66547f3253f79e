"""Phone logins: device tokens and their authentication class (the login throttle: fieldops/logins.py).

A token is `fo_` followed by 43 URL-safe characters (32 random bytes). The
phone sends it as `Authorization: Token fo_…`. The server keeps only its
SHA-256, so the lookup is one indexed equality query per request; revocation
and expiry therefore take effect at the next request.

Expiry is fixed, not sliding: a token lives FIELDOPS_TOKEN_TTL_DAYS (30) days
from login, then the phone logs in again. Knocks waiting on the phone are not
lost by that: they carry their own UUIDs and are pushed after the new login.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from fieldops.access import remember_membership
from fieldops.models import DeviceToken, Membership, Organization

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KEY_PREFIX = "fo_"
KEYWORD = "Token"
# last_used_at is written when older than this: a phone syncing every few
# seconds must not turn every read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_ttl() -> dt.timedelta:
    return dt.timedelta(days=settings.FIELDOPS_TOKEN_TTL_DAYS)


@functools.cache
def _token_sql() -> tuple[str, list[tuple[type[Model], list[str]]], list[tuple[int, list, object]]]:
    """The live token with its user, their membership and its organization: one plain
    SELECT (built once per process) of every column of the four rows, as
    select_related reads them, and the ORM's converters of those columns."""
    from django.contrib.auth import get_user_model

    models: list[type[Model]] = [DeviceToken, get_user_model(), Membership, Organization]
    columns: list[str] = []
    layout: list[tuple[type[Model], list[str]]] = []
    converters: list[tuple[int, list, object]] = []
    for model, alias in zip(models, ["t", "u", "m", "o"], strict=True):
        layout.append((model, [f.attname for f in model._meta.concrete_fields]))
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((len(columns), found, col))
            assert field.column is not None  # a concrete field has a column
            columns.append(f"{alias}.{connection.ops.quote_name(field.column)}")
    table = {model: connection.ops.quote_name(model._meta.db_table) for model in models}
    sql = (
        f"SELECT {', '.join(columns)} FROM {table[DeviceToken]} t "  # noqa: S608
        f"JOIN {table[models[1]]} u ON u.id = t.user_id "
        f"LEFT JOIN {table[Membership]} m ON m.user_id = u.id "
        f"LEFT JOIN {table[Organization]} o ON o.id = m.organization_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
    )
    return sql, layout, converters


def token_lookup(*, key_hash: str, now: dt.datetime) -> DeviceToken | None:
    """The live token of this hash, its user, membership and organization attached, or None.

    The same rows and instances as DeviceToken.objects.select_related("user",
    "user__membership", "user__membership__organization").filter(…).first():
    every phone request runs it, and compiling that ORM query cost several
    milliseconds of CPU a request under the load test (docs/performance.md).
    """
    sql, layout, converters = _token_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, found, col in converters:
        for converter in found:
            values[index] = converter(values[index], col, connection)
    instances: list[Model | None] = []
    start = 0
    for model, names in layout:
        part = values[start : start + len(names)]
        start += len(names)
        instances.append(None if part[0] is None else model.from_db(connection.alias, names, part))
    # The layout's models in order; the token and its user (an inner join) are never NULL.
    token = cast(DeviceToken, instances[0])
    user = cast("User", instances[1])
    membership = cast(Membership | None, instances[2])
    token.user = user
    if membership is not None:
        membership.user = user
        # A membership's organization is a NOT NULL key: its row is there.
        membership.organization = cast(Organization, instances[3])
    # user.membership answers from this row (or "no membership") without a query.
    Membership.user.field.remote_field.set_cached_value(user, membership)
    return token


class TokenRefused(exceptions.AuthenticationFailed):
    """A token was sent and is no good: 401, `code` says why (docs/api.md, "Authentication answers")."""

    def __init__(self, code: str) -> None:
        super().__init__(TOKEN_REFUSALS[code], code=code)


# code -> detail. The phone acts on the status (401: log in again); the code is
# for its logs and the detail for the person holding it.
TOKEN_REFUSALS = {
    "token_malformed": "The Authorization header is not 'Token <key>' with a fieldops key; log in again.",
    "token_unknown": "This token is not known to the server; log in again.",
    "token_revoked": "This token was revoked (logged out, or by an organizer); log in again.",
    "token_expired": "This token has expired; log in again.",
    "token_inactive": "This account or its membership is no longer active; log in again.",
}
# Sent as WWW-Authenticate: the scheme and realm always, and RFC 6750's
# error="invalid_token" when a token was sent and refused.
REALM = "fieldops"


def _why_not_live(key_hash: str) -> str:
    """Why no live token has this hash. A second query, on the refusal path only."""
    row = DeviceToken.objects.filter(key_hash=key_hash).values("revoked_at", "expires_at").first()
    if row is None:
        return "token_unknown"
    if row["revoked_at"] is not None:
        return "token_revoked"
    return "token_expired"


class DeviceTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` → the token's user, if the token is live.

    Live: not revoked, not expired, its user active and still an active member
    of the token's organization. One query (the token with its user and
    membership); the membership is cached on the user for fieldops.access.

    First in DEFAULT_AUTHENTICATION_CLASSES, so DRF takes the WWW-Authenticate
    header from this class: a request without credentials, or with a token
    refused here, answers 401; an authenticated user without the right, 403.
    """

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        request._fieldops_token_refused = True  # type: ignore[attr-defined]  # read by authenticate_header
        if len(parts) != 2:
            raise TokenRefused("token_malformed")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise TokenRefused("token_malformed")
        if not key.startswith(KEY_PREFIX) or len(key) > 100:
            raise TokenRefused("token_malformed")
        now = timezone.now()
        key_hash = hash_key(key)
        token = token_lookup(key_hash=key_hash, now=now)
        if token is None:
            raise TokenRefused(_why_not_live(key_hash))
        user = token.user
        membership = getattr(user, "membership", None)
        if (
            not user.is_active
            or membership is None
            or not membership.is_active
            or membership.organization_id != token.organization_id
        ):
            raise TokenRefused("token_inactive")
        request._fieldops_token_refused = False  # type: ignore[attr-defined]
        remember_membership(user, membership)  # read by fieldops.access.membership_for
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        if getattr(request, "_fieldops_token_refused", False):
            return f'{KEYWORD} realm="{REALM}", error="invalid_token"'
        return f'{KEYWORD} realm="{REALM}"'


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token header in the OpenAPI schema."""

    target_class = "fieldops.tokens.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` with the key from POST /api/v1/auth/token/.",
        }
