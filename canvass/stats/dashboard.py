"""The organizer's campaign dashboard in the admin, and the VAN export downloads.

Mixed into CampaignAdmin (canvass/admin.py). Every number comes from the
stats tables (canvass/stats/selectors.py) through a fixed number of queries,
whatever the size of the campaign (pinned in tests/canvass/stats/test_dashboard.py).
The chart is server-side SVG; the map is the turf map's component
(admin/canvass/campaign/_turf_map.html, read-only here), over the configured
tiles or none, outside the cached body since it loads its own layers.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from canvass.access import campaign_for_user
from canvass.campaigns.models import Campaign
from canvass.stats import exports
from canvass.stats import selectors as stats_selectors
from canvass.stats.models import StatsDirtyDay
from canvass.turfs.admin_map import map_context, with_tile_policy
from fieldops.date_bounds import day_range_problems
from fieldops.request_types import AuthenticatedHttpRequest

CHART_DAYS = 60
# A dashboard render that takes longer than this is taken as dead; another request renders.
DASHBOARD_RENDER_LOCK_SECONDS = 60

logger = logging.getLogger(__name__)


def svg_day_chart(days: list[dict[str, Any]], width: int = 900, height: int = 220) -> str:
    """Bars of doors knocked per day (new doors darker), one bar a day, gaps for days off."""
    if not days:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40" role="img"><text x="5" y="25">No knocks yet.</text></svg>'  # noqa: E501
    first, last = days[0]["day"], days[-1]["day"]
    span = (last - first).days + 1
    top = max(d["doors_knocked"] for d in days) or 1
    left, bottom, right, top_margin = 44, 26, 8, 10
    plot_w, plot_h = width - left - right, height - bottom - top_margin
    bar = plot_w / span
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" class="fieldops-chart" aria-label="Doors knocked per day">',
        f'<line x1="{left}" y1="{top_margin + plot_h}" x2="{width - right}" y2="{top_margin + plot_h}" stroke="#999"/>',
    ]
    for fraction in (0.5, 1.0):
        y = top_margin + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{round(top * fraction)}</text>'
        )
    for d in days:
        x = left + (d["day"] - first).days * bar
        h = plot_h * d["doors_knocked"] / top
        h_new = plot_h * d["new_doors"] / top
        label = html.escape(
            f"{d['day']:%a %d %b}: {d['doors_knocked']} doors ({d['new_doors']} for the first time), "
            f"{d['attempts']} knocks, {d['contacts']} contacts"
        )
        parts.append(
            f'<g><title>{label}</title><rect x="{x + 0.5:.1f}" y="{top_margin + plot_h - h:.1f}" '
            f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}" fill="#9ecae1"/>'
            f'<rect x="{x + 0.5:.1f}" y="{top_margin + plot_h - h_new:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{h_new:.1f}" fill="#3182bd"/></g>'
        )
    step = max(1, span // 8)
    for n in range(0, span, step):
        day = first + dt.timedelta(days=n)
        x = left + n * bar + bar / 2
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{day:%d %b}</text>')
    parts.append("</svg>")
    return "".join(parts)


def number(value: Any) -> str:
    """A figure as the organization reads it: grouped by thousands in the chapter's
    locale (settings.LANGUAGE_CODE, from the environment; "12,480" in en-us, "12 480" in es),
    whatever USE_THOUSAND_SEPARATOR
    says (it is off: it would also group ids in the admin's URLs and forms)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return formats.localize(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a pace of 400.0 doors a day reads "400"
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _cell(value: Any) -> str:
    # As a template shows a variable: localized, grouped, escaped.
    return conditional_escape(number(value))


# Turfs that need the organizer first: free ones with doors left (to hand out), then
# assigned ones with the oldest last knock (stalled), then the done ones.
FREE, ASSIGNED, DONE = 0, 1, 2
TURF_PAGE = 25


def attention_order(turfs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turfs in the order an organizer deals with them (each has "assignees" and "last_day")."""

    def key(t: dict[str, Any]) -> tuple[int, int, int, str]:
        done = t["completion"] is not None and t["completion"] >= 1
        group = DONE if done else ASSIGNED if t["assignees"] else FREE
        last = t["last_day"].toordinal() if t["last_day"] and group == ASSIGNED else 0
        return (group, last, t["number"] if t["number"] is not None else 1 << 30, t["name"])

    return sorted(turfs, key=key)


def turf_rows(turfs: list[dict[str, Any]], urls: dict[int, str]) -> str:
    """The turf table's rows, as the template wrote them (a Django template loop
    over the 257 Venice turfs and a thousand canvassers was most of an uncached
    render: docs/performance.md, the load test). Rows past the first page are
    hidden; static/canvass/dashboard.js pages and sorts them by each cell's data-v."""
    rows = []
    for index, t in enumerate(turfs):
        completion = t["completion"]
        percent = round(completion * 100) if completion is not None else 0
        if completion is not None and completion >= 1:
            who, group = "done", DONE
        elif t["assignees"]:
            who, group = ", ".join(t["assignees"]), ASSIGNED
        else:
            who, group = "free", FREE
        last = t["last_day"]
        number_cell = t["number"] if t["number"] is not None else ""
        rows.append(
            f"<tr{' hidden' if index >= TURF_PAGE else ''}>"
            f'<td class="n" data-v="{number_cell}">{_cell(number_cell)}</td>'
            f'<td data-v="{conditional_escape(t["name"])}"><a href="{conditional_escape(urls[t["turf"]])}">'
            f"{_cell(t['name'])}</a></td>"
            f'<td data-v="{group}" class="fo-{("free", "assigned", "done")[group]}">{conditional_escape(who)}</td>'
            f'<td class="n" data-v="{t["door_count"]}">{_cell(t["door_count"])}</td>'
            f'<td class="n" data-v="{percent}"><span class="fo-bar"><span style="width:{percent}%"></span></span> '
            f"{percent}%</td>"
            f'<td class="n" data-v="{t["contacts"]}">{_cell(t["contacts"])}</td>'
            f'<td data-v="{last.isoformat() if last else ""}">{f"{last:%a} {last.day} {last:%b}" if last else "—"}'
            "</td></tr>\n"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped by _cell or conditional_escape


def canvasser_rows(canvassers: list[dict[str, Any]]) -> str:
    """The canvasser table's rows (see turf_rows)."""
    rows = []
    for c in canvassers:
        rows.append(
            f'<tr><td>{_cell(c["name"] or c["username"])}</td><td class="n">{_cell(c["doors_knocked"])}</td>'
            f'<td class="n">{_cell(c["attempts"])}</td><td class="n">{_cell(c["contacts"])}</td>\n'
            f'<td class="n">{_cell(c["supporters"])}</td><td class="n">{_cell(c["hours"])}</td>'
            f'<td class="n">{_cell(c["doors_per_hour"] or "—")}</td></tr>\n'
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped by _cell


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


# A projection further than this (with no campaign end date) is not a date anyone can plan by.
PROJECTION_HORIZON_DAYS = 365


def projection(progress: stats_selectors.Progress) -> str:
    """What the pace of the last seven days means for the goal, in words.

    The horizon is the campaign's end date, or a year from today without one:
    beyond it the page says the pace will not reach the goal and what daily
    pace would, never "reached on Mon 22 May 2084".
    """
    goal, knocked, today = progress.goal, progress.knocked, progress.today
    if not goal:
        return "No goal set: set the campaign's goal (doors) to see a projection."
    if knocked >= goal:
        return "The goal is reached."
    left = goal - knocked
    ends = progress.ends_on
    if ends is not None and ends < today:
        return f"The campaign ended on {_day(ends)} with {number(left)} doors short of the goal."
    horizon = ends or today + dt.timedelta(days=PROJECTION_HORIZON_DAYS)
    days_left = (horizon - today).days + 1  # today counts
    needed = number(math.ceil(left / days_left))
    by = f"by the campaign's end on {_day(ends)}" if ends else "within a year"
    finish = progress.projected_finish
    if finish is None:
        return f"No new doors in the last 7 days. To reach the goal {by}: {needed} new doors a day."
    if finish > horizon:
        return (
            f"At this pace ({number(progress.pace_per_day)} a day) the goal will not be reached {by}: "
            f"it needs {needed} new doors a day."
        )
    when = _day(finish)
    if ends:
        spare = (ends - finish).days
        days = f"{spare} day{'s' if spare != 1 else ''}"
        return f"At this pace the goal is reached on {when}, {days} before the campaign ends."
    return f"At this pace the goal is reached on {when}."


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("csv", "CSV (VAN bulk upload)"), ("json", "JSON (VAN canvassResponses)")])
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # Days within the calendar's bounds, a range of at most MAX_RANGE_DAYS
        # (fieldops/date_bounds.py): date_to=9999-12-31 was a 500.
        problems = day_range_problems(cleaned.get("date_from"), cleaned.get("date_to"))
        for name, message in problems.items():
            self.add_error(name, message)
        return cleaned


if TYPE_CHECKING:
    # The admin this is mixed into, so that its calls to the admin are checked.
    _CampaignAdminBase = admin.ModelAdmin[Campaign]
else:
    _CampaignAdminBase = object


class CampaignDashboard(_CampaignAdminBase):
    """The campaign's dashboard page and its VAN export download."""

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<path:object_id>/dashboard/",
                wrap(with_tile_policy(self.dashboard_view)),
                name="canvass_campaign_dashboard",
            ),
            path("<path:object_id>/export-van/", wrap(self.export_van_view), name="canvass_campaign_export_van"),
        ]
        return own + super().get_urls()

    def _dashboard_campaign(self, request: HttpRequest, object_id: str) -> Campaign:
        # The campaign's access check, but without CampaignAdmin's list
        # annotations: its universe subquery runs once per turf (4 s for the
        # 257 Venice turfs, docs/performance.md).
        try:
            campaign = campaign_for_user(request.user, object_id)
        except Http404:
            raise Http404("No such campaign.") from None
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return campaign

    @admin.display(description="dashboard")
    def dashboard_link(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "Save the campaign first."
        return format_html(
            '<a href="{}">Dashboard: doors knocked, districts, turfs, canvassers</a> · <a href="{}">Export to VAN…</a>',
            reverse("admin:canvass_campaign_dashboard", args=[obj.pk]),
            reverse("admin:canvass_campaign_export_van", args=[obj.pk]),
        )

    def dashboard_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        campaign = self._dashboard_campaign(request, object_id)
        # Twenty organizers refreshing every 30 s cost a core under the load test
        # (about a second of rendering each); the figures change only when the
        # stats task runs (STATS_TASK_MIN_INTERVAL), so the page body is
        # rendered once per campaign for a few seconds, shared, and refreshed
        # in the background (dashboard_body).
        body = dashboard_body(campaign)
        context = {
            **self.admin_site.each_context(request),
            "opts": Campaign._meta,
            "original": campaign,
            "campaign": campaign,
            "title": f"Dashboard: {campaign}",
            "body": mark_safe(body),  # noqa: S308 - our own template's output
            **map_context(request, campaign, editable=False),
        }
        return render(request, "admin/canvass/dashboard/campaign.html", context)

    def export_van_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        campaign = self._dashboard_campaign(request, object_id)
        form = ExportForm(request.GET if "format" in request.GET else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            if data["format"] == "csv":
                result = exports.export_van_csv(
                    campaign=campaign, actor=request.user, date_from=data["date_from"], date_to=data["date_to"]
                )
                response = HttpResponse(result.content, content_type="text/csv; charset=utf-8")
            else:
                result = exports.export_van_json(
                    campaign=campaign, actor=request.user, date_from=data["date_from"], date_to=data["date_to"]
                )
                response = HttpResponse(json.dumps(result.content, indent=1), content_type="application/json")
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            response["X-Fieldops-Rows"] = str(result.rows)
            response["X-Fieldops-Unmapped"] = str(result.problem_count)
            return response
        preview = exports.export_mapping_report(campaign=campaign)
        return render(
            request,
            "admin/canvass/dashboard/export_van.html",
            {
                **self.admin_site.each_context(request),
                "opts": Campaign._meta,
                "original": campaign,
                "campaign": campaign,
                "title": f"Export to VAN: {campaign}",
                "form": form if form.is_bound else ExportForm(initial={"format": "csv"}),
                "report": preview,
            },
        )


# --- The page body: rendered once, shared by every process, refreshed by the worker --------


def _body_key(campaign_id: int) -> str:
    return f"fieldops:dashboard:{campaign_id}"


def dashboard_body(campaign: Campaign) -> str:
    """The page body, rendered at most once per DASHBOARD_CACHE_SECONDS per campaign
    for all server processes (the "shared" cache: Redis when configured).

    The body holds nothing of the viewer (the view checks access before it
    asks), so one render serves every organizer of the campaign. Only the
    first view of a campaign renders in the request. When the body is out of
    date, the first request to notice queues a background render (it wins a
    lock in the cache) and every request is given the previous body until the
    new one is in: a render is 0.3–2 s of CPU, and in a web process it held
    the interpreter lock that the phone requests of that process were waiting
    for (the load test's p99 was the dashboard's refreshes, every 30 s).
    If the task cannot be queued (the broker is down), or the worker could not
    hand the body over (DASHBOARD_RENDER_IN_WORKER is off: no Redis, each
    process has its own cache), the request that won the lock renders it.
    """
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return dashboard_body_render(campaign)
    shared = caches["shared"]
    key = _body_key(campaign.pk)
    entry = shared.get(key)  # (rendered at, body)
    if entry is None:
        return dashboard_body_refresh(campaign)
    if time.time() - entry[0] < seconds:
        return entry[1]
    if not shared.add(f"{key}:rendering", 1, timeout=DASHBOARD_RENDER_LOCK_SECONDS):
        return entry[1]  # the new body is being rendered
    if settings.DASHBOARD_RENDER_IN_WORKER and _queue_render(campaign.pk):
        return entry[1]
    return dashboard_body_refresh(campaign)


def _queue_render(campaign_id: int) -> bool:
    from django_q.tasks import async_task

    try:
        async_task(
            "canvass.stats.tasks.dashboard_render", campaign_id, task_name=f"dashboard-{campaign_id}-{time.time()}"
        )
    except Exception:  # the broker is down: the request renders
        logger.exception("Could not queue the dashboard render; rendering in the request.")
        return False
    return True


def dashboard_body_refresh(campaign: Campaign) -> str:
    """Render the body now, store it for every process and release the render lock."""
    shared = caches["shared"]
    key = _body_key(campaign.pk)
    rendered_at = time.time()
    try:
        body = dashboard_body_render(campaign)
        # Kept past its freshness so there is a body to serve while the next one renders.
        shared.set(key, (rendered_at, body), max(settings.DASHBOARD_CACHE_SECONDS * 6, 60))
    finally:
        shared.delete(f"{key}:rendering")
    return body


def dashboard_body_render(campaign: Campaign) -> str:
    # In the site's locale (the body is shared by every viewer, so not the viewer's).
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("admin/canvass/dashboard/_body.html", dashboard_context(campaign))


def dashboard_context(campaign: Campaign) -> dict[str, Any]:
    progress = stats_selectors.campaign_progress(campaign=campaign)
    since = progress.today - dt.timedelta(days=CHART_DAYS - 1)
    days = stats_selectors.day_stats(campaign=campaign, date_from=since)
    layers = stats_selectors.layers_of(campaign)
    districts = stats_selectors.district_stats(campaign=campaign, with_answers=False)
    by_layer: dict[int, list[dict[str, Any]]] = {}
    for row in districts:
        by_layer.setdefault(row["layer"], []).append(row)
    layer_tables = [(layer, by_layer[layer.pk]) for layer in layers if layer.pk in by_layer]
    turfs = stats_selectors.turf_stats(campaign=campaign, with_answers=False)
    assignees = stats_selectors.turf_assignees(campaign=campaign)
    last_days = stats_selectors.turf_last_days(campaign=campaign)
    for t in turfs:
        t["assignees"] = assignees.get(t["turf"], [])
        t["last_day"] = last_days.get(t["turf"])
    turfs = attention_order(turfs)
    urls = {t["turf"]: reverse("admin:canvass_turf_change", args=[t["turf"]]) for t in turfs}
    canvassers = stats_selectors.canvasser_stats(campaign=campaign, with_answers=False)
    pending = StatsDirtyDay.objects.filter(campaign=campaign).count()
    tz = campaign.organization.tzinfo
    now = timezone.localtime(timezone.now(), tz)
    shifts = stats_selectors.shift_fill(campaign=campaign)
    free = sum(1 for t in turfs if not t["assignees"] and not (t["completion"] or 0) >= 1)
    turf_list = reverse("admin:canvass_turf_changelist") + f"?campaign__id__exact={campaign.pk}&status__exact=active"
    return {
        "campaign": campaign,
        "progress": progress,
        "projection": projection(progress),
        "totals": stats_selectors.campaign_totals(campaign=campaign),
        "out_now": stats_selectors.out_now(campaign=campaign),
        "shifts_today": stats_selectors.shifts_of_day(campaign=campaign),
        "chart": mark_safe(svg_day_chart(days, width=640, height=200)),  # noqa: S308 - numbers and escaped labels
        "days": days,
        "layer_tables": layer_tables,
        "turfs": turfs,
        "turf_count": len(turfs),
        "free_turfs": free,
        "turf_page": TURF_PAGE,
        "turf_rows": turf_rows(turfs, urls),
        "turf_list_url": turf_list,
        "free_turfs_url": turf_list + "&assignment=free",
        "canvassers": canvassers,
        "canvasser_rows": canvasser_rows(canvassers),
        "shifts": shifts,
        "flagged": stats_selectors.flagged_attempts(campaign=campaign),
        "pending": pending,
        "tz": tz,
        "now": now,
    }
