"""Organizer screens of the core app: the chapter, its members, the audit log.

Every write calls fieldops/services.py, with its checks and audit entry; a
refusal is shown on the form or as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html_join

from fieldops import services
from fieldops.access import MANAGER_ROLES, is_operator, organizations_for_user
from fieldops.admin_scoping import (
    OrganizationScopedAdmin,
    ScopedTabularInline,
    adopt,
    changes_of,
    inline_save,
    new_row_organization,
)
from fieldops.models import AuditLogEntry, DeviceToken, Membership, Organization, Role

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _MemberCount(TypedDict):  # what OrganizationAdmin.get_queryset annotates
    _member_count: int


# Lines about an organization's data that other apps add to its page (turf:
# "15,412 doors in 11,907 buildings"). A registry rather than an import:
# dependencies point one way, and fieldops imports neither turf nor canvass.
_ORGANIZATION_SUMMARIES: list[Callable[[Organization], str]] = []


def organization_summary(function: Callable[[Organization], str]) -> Callable[[Organization], str]:
    """Register a function that describes an organization in one line, shown read-only on its page."""
    _ORGANIZATION_SUMMARIES.append(function)
    return function


class MembershipInline(ScopedTabularInline):
    model = Membership
    fields = ("user", "role", "is_active", "phone")
    raw_id_fields = ("user",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(self, request, obj=None):
        # Members are added on the membership screen (it creates the login);
        # here an organizer changes roles.
        return () if is_operator(request.user) else ("user",)

    def has_add_permission(self, request, obj=None):
        return is_operator(request.user)


def memberships_save(request, formset, *, organization: Organization) -> None:
    """An organization's members inline, row by row through the member services."""
    actor = request.user

    def add(fields: dict) -> Membership:
        # A login chosen on the row (the server's admin): it joins with the row's role.
        user = fields.pop("user")
        active = fields.pop("is_active", True)
        membership = services.member_add(
            organization=organization,
            username=user.get_username(),
            role=fields.get("role", Role.CANVASSER),
            phone=fields.get("phone", ""),
            actor=actor,
        )
        if not active:
            services.member_update(membership=membership, actor=actor, is_active=False)
        return membership

    def update(membership: Membership, changes: dict) -> None:
        if "user" in changes:
            raise ValidationError({"user": "A membership's login never changes: remove the member and add the other."})
        services.member_update(membership=membership, actor=actor, **changes)

    inline_save(
        formset,
        editable={"user", *services.MEMBER_EDITABLE},
        create=add,
        update=update,
        delete=lambda membership: services.member_remove(membership=membership, actor=actor),
    )


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "pk"
    access_scope = staticmethod(organizations_for_user)
    list_display = ("name", "slug", "timezone", "member_count", "created_at")
    search_fields = ("name", "slug")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: WithAnnotations[Organization, _MemberCount]) -> int:
        return obj._member_count

    def get_readonly_fields(self, request, obj=None):
        # The slug names the chapter in commands and URLs; only the server admin renames it.
        fields = () if is_operator(request.user) else ("slug", "created_at")
        return (*fields, "summary") if obj is not None else fields

    @admin.display(description="data")
    def summary(self, obj: Organization) -> str:
        return format_html_join("", "<p>{}</p>", ((describe(obj),) for describe in _ORGANIZATION_SUMMARIES))

    def has_add_permission(self, request):
        return is_operator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request.user)

    def save_model(self, request, obj, form, change):
        if change:
            services.organization_update(
                organization=obj, actor=request.user, **changes_of(form, services.ORGANIZATION_EDITABLE)
            )
            return
        data = form.cleaned_data
        created = services.organization_create(
            slug=data["slug"], name=data["name"], timezone=data["timezone"], actor=request.user
        )
        adopt(obj, created)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships_save(request, formset, organization=form.instance)
        return None

    def delete_model(self, request, obj):
        services.organization_delete(organization=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for organization in queryset:
                services.organization_delete(organization=organization, actor=request.user)


class MemberAddForm(forms.ModelForm):
    """Adding a member creates their login, like `manage.py add_member`."""

    username = forms.CharField(
        max_length=100,
        help_text="The login is your chapter's name, a hyphen and this: maria in venice logs in as venice-maria.",
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Leave empty for a login without password (set one later).",
    )

    class Meta:
        model = Membership
        fields = ("organization", "role", "phone")

    def clean_username(self) -> str:
        organization = self.cleaned_data.get("organization")  # an operator's choice, cleaned before the name
        if organization is None and self.instance.organization_id is not None:
            organization = self.instance.organization  # the organizer's own
        name = self.cleaned_data["username"].strip()
        if organization is None:
            return name  # the organization field says what to fix
        login = services.member_login_name(organization, name)
        if get_user_model().objects.filter(username=login).exists():
            # Only new logins here (attaching an existing one would let a chapter take another's
            # volunteer), and only in the chapter's own prefix: the refusal names a login of this
            # chapter, never tells whether another chapter has one.
            raise ValidationError(f"The login {login} exists already; choose another name.")
        return login

    def _get_validation_exclusions(self) -> set[str]:
        # The user is created on save; nothing to validate about it yet.
        return super()._get_validation_exclusions() | {"user"}  # type: ignore[misc]  # private to ModelForm: django-stubs does not declare it


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    list_display = ("username", "full_name", "role", "is_active", "phone", "organization", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user", "organization")
    raw_id_fields = ("user",)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if is_operator(request.user) else tuple(f for f in fields if f != "organization")

    @admin.display(description="username", ordering="user__username")
    def username(self, obj: Membership) -> str:
        return obj.user.username

    @admin.display(description="name")
    def full_name(self, obj: Membership) -> str:
        return obj.user.get_full_name()

    def get_readonly_fields(self, request, obj=None):
        return ("user", "created_at") if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MemberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            services.member_update(membership=obj, actor=request.user, **changes_of(form, services.MEMBER_EDITABLE))
            return
        data = form.cleaned_data
        membership = services.member_add(
            organization=new_row_organization(request, obj),
            username=data["username"],
            role=obj.role,
            password=data.get("password") or None,
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            phone=data.get("phone", ""),
            actor=request.user,
        )
        adopt(obj, membership)

    def delete_model(self, request, obj):
        services.member_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for membership in queryset.select_related("organization", "user"):
                services.member_remove(membership=membership, actor=request.user)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(OrganizationScopedAdmin):
    view_only = True
    view_roles = MANAGER_ROLES
    list_display = ("created_at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", ("created_at", admin.DateFieldListFilter))
    search_fields = ("action", "object_type", "object_id", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    show_full_result_count = False


@admin.register(DeviceToken)
class DeviceTokenAdmin(OrganizationScopedAdmin):
    """Phone logins. Made by logging in on the phone; an organizer revokes them here
    (a lost phone, a volunteer who left). Only the key's first characters are known."""

    view_only = True
    view_roles = MANAGER_ROLES
    list_display = (
        "user",
        "device_name",
        "device_id",
        "key_prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("=user__username", "device_id", "device_name")
    list_select_related = ("user",)
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_revoke_permission(self, request) -> bool:
        return self._role_in(request, MANAGER_ROLES)

    @admin.action(description="Revoke the selected tokens now", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(services.device_token_revoke(token=token, actor=request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).")
