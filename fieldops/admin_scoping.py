"""The one base every organizer screen is built on: rows of the user's organization only.

Django's admin normally decides access from per-model permission rows. fieldops
decides it from the membership instead (fieldops/access.py), so a new chapter
works without anybody handing out permissions:

- a superuser runs the server and may do everything, in every organization;
- an active admin or organizer may view, add, change and delete their
  organization's rows;
- a team lead may view them;
- a canvasser, or a user without an active membership, sees no section at all.

Querysets are scoped before any id is looked up, so another organization's
change URL answers like a missing row; the object checks below are a second
lock on the same door. Foreign-key and many-to-many choices, and the choices
of related list filters, come from the user's organization only.

Writes go through the services, as the API's do (the screens override
save_model, save_related, delete_model and delete_queryset to call them). A
service that refuses raises ValidationError; here that becomes what the
organizer sees: the form again with the service's message on it, or a
message on the list, never a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone

from fieldops.access import (
    MANAGER_ROLES,
    STAFF_ROLES,
    User,
    has_role,
    is_operator,
    organization_for,
    parse_id,
    scope_to_organization,
)
from fieldops.models import Organization

__all__ = [
    "OrganizationScopedAdmin",
    "ScopedInlineMixin",
    "ScopedTabularInline",
    "ScopedStackedInline",
    "ScopedRelatedFieldListFilter",
    "organization_path",
    "changes_of",
    "adopt",
    "inline_save",
]


def new_row_organization(request: HttpRequest, obj: models.Model) -> Organization:
    """The organization a row added in the admin goes to: the one its scoped form set (an
    operator's choice), else the organizer's own; nobody else may add rows."""
    if getattr(obj, "organization_id", None):
        organization: Organization | None = obj.organization  # type: ignore[attr-defined]  # the scoped models have one
    else:
        organization = organization_for(request.user)
    if organization is None:
        raise PermissionDenied("Choose the organization this belongs to.")
    return organization


def organization_path(model: type[models.Model], depth: int = 3) -> str | None:
    """The lookup from a model to its Organization, found by following foreign keys.

    Campaign -> "organization"; SurveyOption -> "question__campaign__organization";
    a user -> "membership__organization". None when the model has no way there.
    """
    if model is Organization:
        return "pk"
    if model is get_user_model():
        return "membership__organization"
    try:
        field = model._meta.get_field("organization")
        if field.is_relation and field.related_model is Organization:
            return "organization"
    except FieldDoesNotExist:
        pass
    if depth == 0:
        return None
    for field in model._meta.get_fields():
        # Only forward, required foreign keys: a nullable one could lead nowhere.
        if isinstance(field, models.ForeignKey) and not field.null:
            rest = organization_path(field.related_model, depth - 1)
            if rest is not None and rest != "pk":
                return f"{field.name}__{rest}"
            if rest == "pk":
                return field.name
    return None


def scope_related(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """Scope a queryset of any model to the user's organization (the operator: all)."""
    path = organization_path(queryset.model)
    operator = is_operator(request.user)
    if queryset.model is get_user_model() and not operator:
        # People are offered while their membership is active.
        queryset = queryset.filter(membership__is_active=True)
    if path is None:
        # A model we cannot place in an organization is never offered to members.
        return queryset if operator else queryset.none()
    return scope_to_organization(queryset, request.user, path)


if TYPE_CHECKING:
    # What the mixins below are mixed into, so that their calls to super() are checked.
    _FormBase = ModelForm
    _FieldsBase = admin.options.BaseModelAdmin
    _InlineBase = admin.options.InlineModelAdmin
else:
    _FormBase = _FieldsBase = _InlineBase = object


def refusal_text(exc: ValidationError) -> str:
    """A service's refusal in one line, for a message on a list or a delete page."""
    if hasattr(exc, "error_dict"):
        return " ".join(message for messages_ in exc.message_dict.values() for message in messages_)
    return " ".join(exc.messages)


def add_refusal(form: Any, exc: ValidationError) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


def changes_of(form: Any, editable: Iterable[str]) -> dict[str, Any]:
    """What the organizer changed on a bound, valid form, among the fields a service may write."""
    allowed = set(editable)
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved `obj` the row a service created: the admin logs
    the addition and redirects to `obj` afterwards."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def inline_save(
    formset: Any,
    *,
    editable: Iterable[str],
    create: Any,
    update: Any,
    delete: Any,
) -> None:
    """An inline's rows written row by row through services, never by formset.save().

    `create(fields)` returns the new row; `update(row, changes)` and
    `delete(row)` write an existing one. The admin's history message reads
    new_objects, changed_objects and deleted_objects, which are filled here.
    """
    allowed = set(editable)
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for row in formset.forms:
        instance = row.instance
        if formset.can_delete and formset._should_delete_form(row):
            if instance.pk is not None:
                delete(instance)
                formset.deleted_objects.append(instance)
            continue
        if not row.has_changed():
            continue
        changed = {name: row.cleaned_data[name] for name in row.changed_data if name in allowed}
        if instance.pk is None:
            formset.new_objects.append(create(changed))
        else:
            update(instance, changed)
            formset.changed_objects.append((instance, row.changed_data))


class _ScopedFormMixin(_FormBase):
    """Model form that knows the organization of a new row before validating it.

    The organization field is not on the form for members, so Django would skip
    every constraint that names it (slug unique per organization…) and the
    database would answer a duplicate with an IntegrityError (a 500). Setting
    the organization on the instance first and validating it keeps the
    duplicate a form error.
    """

    fieldops_organization: Organization | None = None
    # What a service refused when this form was posted before (shown again with it).
    fieldops_refusal: ValidationError | None = None

    def clean(self) -> Any:
        cleaned = super().clean()
        if self.fieldops_refusal is not None:
            add_refusal(self, self.fieldops_refusal)
        return cleaned

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        if (
            self.fieldops_organization is not None
            and _has_direct_organization(type(instance))
            and instance.organization_id is None
        ):
            instance.organization = self.fieldops_organization

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()  # type: ignore[misc]  # private to ModelForm: django-stubs does not declare it
        if _has_direct_organization(type(self.instance)) and self.instance.organization_id is not None:
            exclude.discard("organization")
        return exclude


def _has_direct_organization(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is Organization


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that names the chosen row only when the user may see it.

    Django's widget labels the typed id through the model's default manager,
    so `?door=<id of another chapter's door>` on an add page would print that
    door's address: counting ids up would list every organization's doors.
    """

    def __init__(self, rel: Any, admin_site: Any, queryset: QuerySet, **kwargs: Any) -> None:
        super().__init__(rel, admin_site, **kwargs)
        self.scoped_queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            visible = self.scoped_queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value) if visible else ("", "")


class _ScopedFieldsMixin(_FieldsBase):
    """Choice limiting shared by model admins and inlines."""

    # Related fields whose choices need more than the organization filter, as
    # {field name: (select_related names)}, to keep a select of 100 districts
    # (labelled "layer: name") one query.
    related_select: dict[str, tuple[str, ...]] = {}

    def _role_in(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        """Does the (active) user act with one of these roles? The operator does (fieldops/access.py)."""
        return bool(request.user.is_active) and has_role(request.user, roles)

    def scoped_choices(self, request: HttpRequest, db_field: models.ForeignKey | models.ManyToManyField) -> QuerySet:
        queryset = db_field.remote_field.model._default_manager.all()
        extra = self.related_select.get(db_field.name)
        if extra:
            queryset = queryset.select_related(*extra)
        return scope_related(request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self.scoped_choices(request, db_field)
        if "widget" not in kwargs and db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedRawIdWidget(
                db_field.remote_field, self.admin_site, kwargs["queryset"], using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self.scoped_choices(request, db_field)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scoped_form(
        self,
        request: HttpRequest,
        form_class: type[ModelForm],
        obj: Any = None,
        refusal: ValidationError | None = None,
    ) -> type[ModelForm]:
        organization = organization_for(request.user)
        if organization is None and obj is not None and _has_direct_organization(type(obj)):
            organization = obj.organization
        return type(
            form_class.__name__,
            (_ScopedFormMixin, form_class),
            {"fieldops_organization": organization, "fieldops_refusal": refusal},
        )


class OrganizationScopedAdmin(_ScopedFieldsMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows, permissions and choices follow the user's organization."""

    # The lookup from this model to its Organization.
    organization_field: str = "organization"
    # The model's one access check (canvass/access.py, turf/access.py, fieldops/access.py),
    # as staticmethod(campaigns_for_user); None: the rows of the user's organization.
    access_scope: Callable[[User, QuerySet], QuerySet] | None = None
    # Who may open the section; who may write in it.
    view_roles: frozenset[str] = STAFF_ROLES
    write_roles: frozenset[str] = MANAGER_ROLES
    # Rows that come from elsewhere (phones, the audit trail): nobody edits them here.
    view_only: bool = False
    # Rows that come from an import: members may change or delete them, not add them.
    addable: bool = True

    # --- rows -------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if self.access_scope is not None:
            return self.access_scope(request.user, queryset)
        return scope_to_organization(queryset, request.user, self.organization_field)

    def in_scope(self, request: HttpRequest, obj: Any) -> bool:
        """Does this object belong to the user's organization?"""
        if is_operator(request.user):
            return True
        organization = organization_for(request.user)
        if organization is None:
            return False
        if self.organization_field == "pk":
            return obj.pk == organization.pk
        target: Any = obj
        *hops, last = self.organization_field.split("__")
        for hop in hops:
            target = getattr(target, hop, None)
            if target is None:
                return False
        return getattr(target, f"{last}_id", None) == organization.pk

    # --- permissions --------------------------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.view_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = self._role_in(request, self.view_roles) or self._role_in(request, self.write_roles)
        return allowed and (obj is None or self.in_scope(request, obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        if self.view_only or not self.addable:
            return False
        return self._role_in(request, self.write_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.view_only:
            return False
        return self._role_in(request, self.write_roles) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.view_only:
            return False
        return self._role_in(request, self.write_roles) and (obj is None or self.in_scope(request, obj))

    # --- forms --------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None):
        fields = list(super().get_fields(request, obj))
        if not is_operator(request.user) and self.organization_field == "organization":
            # Members work in one organization: the field would only offer theirs.
            fields = [f for f in fields if f != "organization"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and self.organization_field == "organization" and "organization" not in fields:
            # A row never moves to another organization (the services write no such change).
            fields = (*fields, "organization")
        return fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        return self._scoped_form(request, form, obj, getattr(request, "_fieldops_refusal", None))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and _has_direct_organization(type(obj)) and obj.organization_id is None:
            obj.organization = organization_for(request.user)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # New inline rows (people at a door…) belong to the parent's organization.
        parent_org_id = getattr(form.instance, "organization_id", None)
        if parent_org_id is not None:
            for inline_form in formset.forms:
                instance = inline_form.instance
                if _has_direct_organization(type(instance)) and instance.organization_id is None:
                    instance.organization_id = parent_org_id
        super().save_formset(request, form, formset, change)

    # --- time zone ----------------------------------------------------------

    def _in_org_timezone(self, request: HttpRequest, view: Any, *args: Any, **kwargs: Any):
        organization = organization_for(request.user)
        if organization is None:
            return view(request, *args, **kwargs)
        # Shown and typed in the chapter's zone; stored in UTC.
        with timezone.override(organization.tzinfo):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    def changelist_view(self, request, extra_context=None):
        return self._in_org_timezone(request, self._changelist_refusing, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._in_org_timezone(request, self._changeform_refusing, object_id, form_url, extra_context)

    # --- a service's refusal ------------------------------------------------

    def _changeform_refusing(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        if request.method != "POST":
            return view(request, object_id, form_url, extra_context)
        try:
            return view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # The admin's transaction rolled back with the service's. The same
            # post again, now with the refusal on the form: it fails validation
            # there and is shown with the organizer's input and the message.
            request._fieldops_refusal = exc  # read back by get_form
            return view(request, object_id, form_url, extra_context)

    def _changelist_refusing(self, request, extra_context=None):
        # Saving list_editable rows (one transaction).
        try:
            return super().changelist_view(request, extra_context)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _is_pk(self, value: str) -> bool:
        """A value this model's primary key can hold: a number within 64 bits, a UUID, …"""
        pk = self.model._meta.pk
        if isinstance(pk, models.IntegerField):
            return parse_id(value) is not None
        try:
            pk.to_python(value)
        except ValidationError:
            return False
        return True

    def response_action(self, request, queryset):  # type: ignore[override]  # the stubs add Django 6.0's action_location; 5.2 has none
        # Ids that are not ids of this model ("nope", a tampered form) select nothing, as a foreign
        # id does, instead of reaching the database as a 500.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        kept = [pk for pk in selected if self._is_pk(pk)]
        if kept != selected:
            post = request.POST.copy()
            post.setlist(helpers.ACTION_CHECKBOX_NAME, kept)
            request.POST = post
        try:
            return super().response_action(request, queryset)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ScopedInlineMixin(_ScopedFieldsMixin, _InlineBase):
    """Inline rows follow the parent's rules: managers write, staff read."""

    view_roles: frozenset[str] = STAFF_ROLES
    write_roles: frozenset[str] = MANAGER_ROLES
    view_only: bool = False

    def has_view_permission(self, request, obj=None):
        return self._role_in(request, self.view_roles) or self._role_in(request, self.write_roles)

    def has_add_permission(self, request, obj=None):
        return not self.view_only and self._role_in(request, self.write_roles)

    def has_change_permission(self, request, obj=None):
        return not self.view_only and self._role_in(request, self.write_roles)

    def has_delete_permission(self, request, obj=None):
        return not self.view_only and self._role_in(request, self.write_roles)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if _has_direct_organization(self.model) and "organization" not in exclude:
            # Always the parent's organization; set on save.
            exclude.append("organization")
        return exclude

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self._scoped_form(request, formset.form, obj)
        return formset


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0


class ScopedStackedInline(ScopedInlineMixin, admin.StackedInline):
    extra = 0


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related filter that offers only the user's organization's rows.

    Django's RelatedFieldListFilter lists every row of the related table: the
    campaign filter would show other chapters' campaign names.
    """

    def field_choices(self, field, request, model_admin):
        queryset = scope_related(request, field.related_model._default_manager.all())
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


def scoped_filter(field: str) -> tuple[str, type[ScopedRelatedFieldListFilter]]:
    """A list_filter entry for a related field that offers only the user's organization's rows."""
    return (field, ScopedRelatedFieldListFilter)
