"""Organizer screens of the knocks that came back from the phones: every knock
(read-only), and the review queue of the knocks held for review (like PDI's
"approve mobile data"), where organizers approve or reject them.

Decisions go through canvass/sync/services.py (attempt_approve,
attempt_reject): audited, written to the change log phones pull, and the stats
queued. The trust model: docs/architecture.md, "Trust".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from canvass.sync.models import ContactAttempt, HeldKnock, Review
from canvass.sync.services import ReviewResult, attempt_approve, attempt_reject
from fieldops.access import MANAGER_ROLES
from fieldops.admin_scoping import OrganizationScopedAdmin, refusal_text, scoped_filter

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices  # the stubs' name for a choice's dict


@admin.register(ContactAttempt)
class ContactAttemptAdmin(OrganizationScopedAdmin):
    """Knocks come from the phones and are append-only: this screen only reads."""

    view_only = True
    list_display = (
        "recorded_at",
        "canvasser",
        "door",
        "result_code",
        "support_level",
        "review",
        "off_list",
        "far_from_door",
        "too_fast",
    )
    list_filter = (
        scoped_filter("campaign"),
        scoped_filter("result_code"),
        "review",
        "off_list",
        "far_from_door",
        "too_fast",
    )
    search_fields = ("=canvasser__username", "door__street_name", "=door__number")
    date_hierarchy = "corrected_at"
    list_select_related = ("canvasser", "door", "result_code")
    show_full_result_count = False


class ReviewStateFilter(admin.SimpleListFilter):
    """The queue opens on the held knocks; the decided ones are a click away."""

    title = "review"
    parameter_name = "review"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        states = [Review.HELD, Review.APPROVED, Review.REJECTED, Review.TRUSTED]
        return [(str(state), str(state.label)) for state in states] + [(self.ALL, "All")]

    def state(self) -> str:
        return self.value() or Review.HELD

    def choices(self, changelist: Any) -> Iterator[_ListFilterChoices]:
        # No "All" of Django's own (it would drop the parameter: back to held).
        for value, label in self.lookup_choices:
            yield {
                "selected": self.state() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        state = self.state()
        if state == self.ALL:
            return queryset
        return queryset.filter(review=state) if state in Review.values else queryset.none()


@admin.register(HeldKnock)
class HeldKnockAdmin(OrganizationScopedAdmin):
    """The review queue: who knocked, where, when (the organization's time), how far
    from the door the phone was, and why the knock was held; approve or reject,
    one by one (the buttons of a row) or in bulk (the actions). Organizers and
    admins only: a team lead does not see it."""

    view_only = True
    view_roles = MANAGER_ROLES
    write_roles = MANAGER_ROLES
    list_display = (
        "corrected_at",
        "who",
        "where",
        "result_code",
        "distance",
        "held_reason",
        "flags",
        "review",
        "reviewed",
        "decide",
    )
    list_display_links = ("corrected_at",)
    list_filter = (ReviewStateFilter, scoped_filter("campaign"), "held_reason")
    search_fields = ("=canvasser__username", "door__street_name", "=door__number")
    list_select_related = ("canvasser", "door", "result_code", "reviewed_by")
    ordering = ("-corrected_at", "-pk")
    actions = ("approve_selected", "reject_selected")
    fields = (
        "decide",
        "review",
        "held_reason",
        "who",
        "where",
        "campaign",
        "assignment",
        "corrected_at",
        "recorded_at",
        "received_at",
        "result_code",
        "person",
        "support_level",
        "answers",
        "notes",
        "distance",
        "accuracy_m",
        "flags",
        "device_id",
        "reviewed",
    )
    readonly_fields = fields
    show_full_result_count = False

    # --- columns -------------------------------------------------------------

    @admin.display(description="canvasser", ordering="canvasser__username")
    def who(self, obj: ContactAttempt) -> str:
        user = obj.canvasser
        name = user.get_full_name() if isinstance(user, User) else ""
        return f"{user.get_username()} ({name})" if name else user.get_username()

    @admin.display(description="door")
    def where(self, obj: ContactAttempt) -> str:
        return obj.door.display_address

    @admin.display(description="from the door", ordering="distance_m")
    def distance(self, obj: ContactAttempt) -> str:
        if obj.distance_m is None:
            return "no location"
        accuracy = f" (± {obj.accuracy_m:.0f} m)" if obj.accuracy_m is not None else ""
        return f"{obj.distance_m:.0f} m{accuracy}"

    @admin.display(description="flags")
    def flags(self, obj: ContactAttempt) -> str:
        names = {"off_list": "off the list", "far_from_door": "far from the door", "too_fast": "too fast"}
        return ", ".join(label for name, label in names.items() if getattr(obj, name)) or "—"

    @admin.display(description="decided")
    def reviewed(self, obj: ContactAttempt) -> str:
        if obj.reviewed_at is None:
            return "—"
        by = obj.reviewed_by.get_username() if obj.reviewed_by is not None else "(deleted user)"
        return f"{by}, {obj.reviewed_at:%Y-%m-%d %H:%M}"

    @admin.display(description="decide")
    def decide(self, obj: ContactAttempt) -> str:
        """Buttons that post the page's form (with its CSRF token) to the row's decision URL."""
        buttons = []
        if obj.review in (Review.HELD, Review.REJECTED):
            buttons.append(("approve", "Approve"))
        if obj.review == Review.HELD:
            buttons.append(("reject", "Reject"))
        if not buttons:
            return "—"
        return format_html(
            " ".join(
                ['<button type="submit" formmethod="post" formaction="{}" class="button">{}</button>'] * len(buttons)
            ),
            *[
                value
                for name, label in buttons
                for value in (reverse(f"admin:canvass_heldknock_{name}", args=[obj.pk]), label)
            ],
        )

    # --- permissions ---------------------------------------------------------

    def has_review_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_in(request, self.write_roles) and (obj is None or self.in_scope(request, obj))

    # --- decisions -----------------------------------------------------------

    def _decide(self, request: HttpRequest, knocks: list[ContactAttempt], approve: bool) -> ReviewResult | None:
        if not knocks:
            return None
        # The organization of the knocks (one, for a member: the queryset is scoped).
        organization = knocks[0].organization
        if any(k.organization_id != organization.pk for k in knocks):
            raise ValidationError("Decide the knocks of one organization at a time.")
        decide = attempt_approve if approve else attempt_reject
        result = decide(actor=cast(User, request.user), organization=organization, attempt_ids=[k.pk for k in knocks])
        verb = "approved" if approve else "rejected"
        if result.decided:
            self.message_user(request, f"{len(result.decided)} knock(s) {verb}.", messages.SUCCESS)
        if result.skipped:
            self.message_user(
                request, f"{result.skipped} knock(s) left as they were (already decided).", messages.WARNING
            )
        return result

    @admin.action(description="Approve the selected knocks (they count from now on)", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, list(queryset.select_related("organization")), approve=True)

    @admin.action(description="Reject the selected knocks (kept, never counted)", permissions=["review"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, list(queryset.select_related("organization")), approve=False)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path("<path:object_id>/approve/", wrap(self.approve_view), name="canvass_heldknock_approve"),
            path("<path:object_id>/reject/", wrap(self.reject_view), name="canvass_heldknock_reject"),
        ]
        return own + super().get_urls()

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decision_view(request, object_id, approve=True)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._decision_view(request, object_id, approve=False)

    def _decision_view(self, request: HttpRequest, object_id: str, *, approve: bool) -> HttpResponse:
        knock = self.get_object(request, object_id)  # scoped: another chapter's knock is missing
        if knock is None:
            raise Http404("No such knock.")
        if not self.has_review_permission(request, knock):
            raise PermissionDenied
        if request.method != "POST":  # a decision is a POST; a GET only shows the knock
            return HttpResponseRedirect(reverse("admin:canvass_heldknock_change", args=[knock.pk]))
        try:
            self._decide(request, [knock], approve=approve)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:canvass_heldknock_changelist"))
