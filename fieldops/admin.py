"""Organizer screens of the core app: the chapter, its members, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join

from fieldops.access import MANAGER_ROLES
from fieldops.admin_scoping import OrganizationScopedAdmin, ScopedTabularInline, is_superuser
from fieldops.models import AuditLogEntry, DeviceToken, Membership, Organization
from fieldops.services import device_token_revoke, member_add, member_sync_staff_flag

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
        return () if is_superuser(request) else ("user",)

    def has_add_permission(self, request, obj=None):
        return is_superuser(request)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "pk"
    list_display = ("name", "slug", "timezone", "member_count", "created_at")
    search_fields = ("name", "slug")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: Organization) -> int:
        return obj._member_count

    def get_readonly_fields(self, request, obj=None):
        # The slug names the chapter in commands and URLs; only the server admin renames it.
        fields = () if is_superuser(request) else ("slug", "created_at")
        return (*fields, "summary") if obj is not None else fields

    @admin.display(description="data")
    def summary(self, obj: Organization) -> str:
        return format_html_join("", "<p>{}</p>", ((describe(obj),) for describe in _ORGANIZATION_SUMMARIES))

    def has_add_permission(self, request):
        return is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for inline_form in formset.forms:
                if inline_form.instance.pk and inline_form.has_changed():
                    member_sync_staff_flag(membership=inline_form.instance)


class MemberAddForm(forms.ModelForm):
    """Adding a member creates their login, like `manage.py add_member`."""

    username = forms.CharField(max_length=150)
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
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username=username).exists():
            # Attaching an existing login would let one chapter take another's
            # volunteer (or the server admin's account): only new logins here.
            raise ValidationError("This username is taken; choose another.")
        return username

    def _get_validation_exclusions(self) -> set[str]:
        # The user is created on save; nothing to validate about it yet.
        return super()._get_validation_exclusions() | {"user"}


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    list_display = ("username", "full_name", "role", "is_active", "phone", "organization", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user", "organization")
    raw_id_fields = ("user",)

    def get_list_display(self, request):
        fields = super().get_list_display(request)
        return fields if is_superuser(request) else tuple(f for f in fields if f != "organization")

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
            super().save_model(request, obj, form, change)
            member_sync_staff_flag(membership=obj)
            return
        data = form.cleaned_data
        organization = obj.organization if obj.organization_id else None
        membership = member_add(
            organization=organization,
            username=data["username"],
            role=obj.role,
            password=data.get("password") or None,
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        if obj.phone:
            membership.phone = obj.phone
            membership.save(update_fields=["phone"])
        # The admin logs and redirects to `obj`: make it the saved row.
        obj.pk = membership.pk
        obj.user = membership.user
        obj.created_at = membership.created_at
        obj._state.adding = False


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
        revoked = sum(device_token_revoke(token=token, actor=request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).")
