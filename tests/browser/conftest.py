"""End-to-end tests of the volunteer app: Playwright's sync API drives Debian's
Chromium (by executable_path; never `playwright install`) against
pytest-django's live_server, as a phone: Pixel 7 viewport and touch,
geolocation in Venice, offline mode.

Fixtures:
    chromium_path   the Chromium executable (tests/browser/chromium.py); every test here
                    is skipped, with the reason, when there is none
    playwright      the running Playwright (package scope), browser: headless Chromium
    base_url        the live server as http://localhost:PORT (localhost is a secure
                    context, so service workers register)
    make_phone      make_phone(locale="en-US", **context_options) -> Phone: a new phone
                    (browser context) each call, closed at the end of the test
    phone           an English phone; spanish_phone: the same with locale es-US
    app_world       AppWorld: the chapter, its people, a turf of 40 doors and shifts, in the database
    api_token       api_token(user, device_id=...) -> str: a device token from the real login service

Every test here carries the `browser` marker. Console errors and uncaught
page errors of each phone are printed when a test fails.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from canvass.campaigns.services import campaign_create_or_update, script_replace
from canvass.field.services import assignment_create, shift_create
from canvass.models import Assignment, Campaign, ResultCode, Shift, SurveyOption, SurveyQuestion, Turf
from fieldops.models import Organization, Role
from fieldops.services import device_token_create, member_add, organization_create
from tests import factories as f

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page
from tests.browser.chromium import LAUNCH_ARGS, chromium_for_tests
from turf.addresses import NormalizedAddress
from turf.models import Door, Person

HERE = Path(__file__).resolve().parent

# A sidewalk in Venice, where the turf's doors are and the phones stand.
VENICE = (33.9925, -118.4695)

# Of olivia, carlos and oscar alike.
PASSWORD = "walk-the-turf-1"

_CHROMIUM, _SKIP_REASON = chromium_for_tests()
_PHONES = pytest.StashKey[list["Phone"]]()


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees the whole session's items: mark only ours.
    skip = pytest.mark.skip(reason=f"browser tests skipped: {_SKIP_REASON}") if _CHROMIUM is None else None
    for item in items:
        if _in_this_folder(item):
            item.add_marker(pytest.mark.browser)
            if skip is not None:
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    phones = item.stash.get(_PHONES, [])
    if report.failed and report.when in ("call", "teardown"):
        lines = [f"phone {i} ({p.locale}): {error}" for i, p in enumerate(phones) for error in p.errors]
        if lines:
            report.sections.append(("browser console and page errors", "\n".join(lines)))
    return report


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if _CHROMIUM is None:
        pytest.skip(f"browser tests skipped: {_SKIP_REASON}")
    return _CHROMIUM


@pytest.fixture(scope="package")
def playwright(chromium_path):
    """Playwright's sync API, for the tests of this folder only.

    While it runs, its event loop counts as running in this thread, so Django
    refuses ORM calls here (SynchronousOnlyOperation) unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set; it is set for exactly that time, and
    Playwright stops after the last browser test, so the rest of the suite
    keeps Django's check.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as running:
            yield running


@pytest.fixture(scope="package")
def browser(playwright, chromium_path):
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """The live server's URL with the host `localhost`: a secure context over plain HTTP,
    which service workers and navigator.storage need (127.0.0.1 is one too, but the
    app is documented and run at localhost)."""
    parts = urllib.parse.urlsplit(live_server.url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"localhost:{parts.port}"))


@dataclass
class Phone:
    """One phone: a browser context with its page, and what went wrong in it."""

    context: BrowserContext
    page: Page = field(init=False)  # opened once the context is watched
    base_url: str
    locale: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught errors, in order
    _in_flight: set = field(default_factory=set)

    def url(self, path: str = "/app/") -> str:
        return urllib.parse.urljoin(self.base_url, path)

    def open(self, path: str = "/app/", **goto_options):
        """Load a page of the app; returns Playwright's Response."""
        return self.page.goto(self.url(path), **goto_options)

    def wait_for_service_worker(self, timeout_ms: float = 15_000) -> str:
        """Wait until a service worker controls the page; returns its script URL."""
        self.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", polling=100, timeout=timeout_ms
        )
        return self.page.evaluate("() => navigator.serviceWorker.controller.scriptURL")

    def set_offline(self, offline: bool) -> None:
        """Cut the phone's network, or give it back. Fetches made by the service worker
        itself are not cut (Playwright issue 2311)."""
        self.context.set_offline(offline)

    def move_to(self, lat: float, lng: float, accuracy: float = 10) -> None:
        self.context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": accuracy})

    def reopen(self, path: str = "/app/"):
        """Close the app's page and open it again (a restart; the storage stays)."""
        self.page.close()
        self.page = self.context.new_page()
        return self.open(path)

    def assert_no_errors(self, *, ignore: Iterable[str] = ()) -> None:
        """No console error and no uncaught error so far, but those containing one of `ignore`
        (for example "net::ERR_INTERNET_DISCONNECTED" in a test that goes offline)."""
        ignore = tuple(ignore)
        left = [error for error in self.errors if not any(part in error for part in ignore)]
        assert not left, "browser errors:\n" + "\n".join(left)

    def settle(self, timeout_s: float = 5.0) -> None:
        """Let the page's requests finish, so the database is not flushed under a running request."""
        deadline = time.monotonic() + timeout_s
        while self._in_flight and time.monotonic() < deadline and not self.page.is_closed():
            self.page.wait_for_timeout(50)

    def _watch(self) -> None:
        def on_console(message) -> None:
            if message.type == "error":
                where = message.location or {}
                at = f" at {where['url']}:{where.get('lineNumber', 0)}" if where.get("url") else ""
                self.errors.append(f"console.error{at}: {message.text}")

        def on_web_error(web_error) -> None:
            self.errors.append(f"uncaught {web_error.error}")

        self.context.on("console", on_console)
        self.context.on("weberror", on_web_error)
        self.context.on("request", lambda request: self._in_flight.add(request))
        self.context.on("requestfinished", lambda request: self._in_flight.discard(request))
        self.context.on("requestfailed", lambda request: self._in_flight.discard(request))


@pytest.fixture
def make_phone(request, playwright, browser, base_url) -> Iterator[Callable[..., Phone]]:
    """make_phone(locale="en-US", **context_options) -> Phone, in Venice, allowed to
    give its position, with service workers; closed at the end of the test."""
    phones: list[Phone] = []
    request.node.stash[_PHONES] = phones

    def make(locale: str = "en-US", **options) -> Phone:
        context = browser.new_context(
            **{
                **playwright.devices["Pixel 7"],
                "geolocation": {"latitude": VENICE[0], "longitude": VENICE[1], "accuracy": 10},
                "permissions": ["geolocation"],
                "locale": locale,
                "timezone_id": "America/Los_Angeles",
                "service_workers": "allow",
                "base_url": base_url,
                **options,
            }
        )
        context.set_default_timeout(15_000)
        phone = Phone(context=context, base_url=base_url, locale=locale)
        phone._watch()
        phone.page = context.new_page()
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        if not phone.page.is_closed():
            phone.settle()
        phone.context.close()


@pytest.fixture
def phone(make_phone) -> Phone:
    return make_phone()


@pytest.fixture
def spanish_phone(make_phone) -> Phone:
    return make_phone(locale="es-US")


@pytest.fixture(autouse=True)
def _browser_login_throttle(fresh_login_throttle):
    """Browser tests log carlos in from 127.0.0.1 again and again: each starts with fresh counts."""


# ---------------------------------------------------------------- the world


@dataclass
class AppWorld:
    """What the end-to-end tests walk. Field names match tests/conftest.py's World
    where they mean the same, so tests/factories.push_item() and push_batch() take it."""

    org: Organization  # "venice", America/Los_Angeles, with the standard result codes
    other_org: Organization  # "elsewhere"
    organizer: User  # olivia, organizer of venice (staff)
    canvasser: User  # carlos, canvasser of venice
    outsider: User  # oscar, organizer of elsewhere
    password: str  # of all three
    campaign: Campaign  # "Venice canvass"
    questions: list[SurveyQuestion]  # the script: two questions, in order
    options: list[list[SurveyOption]]  # options[i]: the three options of questions[i], in order
    result_codes: list[ResultCode]  # venice's, in the order the app shows them
    turf: Turf  # "Turf 001"
    doors: list[Door]  # the turf's 40 doors, in walk order
    buildings: dict[str, list[Door]]  # building_key -> its doors, for the 3 buildings of several units
    people: dict[int, list[Person]]  # door id -> the people at it, by last and first name (20 doors have 1 or 2)
    assignment: Assignment  # the turf, to carlos, current (started an hour ago, no end)
    shifts: list[Shift]  # upcoming: [0] starts in 30 minutes (check-in open), [1] tomorrow
    other_door: Door  # a door of elsewhere, which carlos may not knock


# The turf, in walk order along one side of Rose Ave, ~11 m between buildings:
# each entry is a building and its units ("" for a house). Unit doors share
# their building's key and point.
_BUILDINGS = [[""]] * 8 + [list("123456")] + [[""]] * 8 + [list("ABCD")] + [[""]] * 8 + [list("123")] + [[""]] * 3
_FIRST = ["Maria", "James", "Lupe", "Kenji", "Rosa", "David", "Ana", "Tom", "Carmen", "Luis"]
_LAST = ["Garcia", "Nguyen", "Smith", "Hernandez", "Okafor", "Lopez", "Kim", "Johnson", "Rivera", "Brown"]


def _rose_ave_doors(org: Organization) -> list[Door]:
    doors: list[Door] = []
    for b, units in enumerate(_BUILDINGS):
        number = str(600 + 4 * b)
        for unit in units:
            address = NormalizedAddress(number=number, street_name="ROSE", street_type="AVE", unit=unit, zip="90291")
            doors.append(
                f.DoorFactory(
                    organization=org,
                    building_key=f"b:rose-{number}",
                    address_key=address.address_key,
                    number=number,
                    street_name="ROSE",
                    street_type="AVE",
                    unit_type="APT" if unit else "",
                    unit=unit,
                    lat=VENICE[0],
                    lng=round(VENICE[1] + 0.00012 * b, 7),
                )
            )
    return doors


@pytest.fixture
def app_world(transactional_db) -> AppWorld:
    """The chapter of tests/conftest.py's World, built with the real services where
    they exist, and a turf worth walking: 40 doors in walk order (27 houses and
    13 apartments in 3 buildings), 30 people at 20 of them, carlos assigned now,
    two shifts to come. Committed (live_server reads it from its own thread)."""
    now = timezone.now()
    org = organization_create(slug="venice", name="Venice Chapter", timezone="America/Los_Angeles")
    other_org = organization_create(slug="elsewhere", name="Elsewhere Chapter")
    organizer = member_add(organization=org, username="olivia", role=Role.ORGANIZER, password=PASSWORD).user
    canvasser = member_add(
        organization=org, username="carlos", role=Role.CANVASSER, password=PASSWORD, first_name="Carlos"
    ).user
    outsider = member_add(organization=other_org, username="oscar", role=Role.ORGANIZER, password=PASSWORD).user
    campaign = campaign_create_or_update(
        organization=org, slug="venice-canvass", name="Venice canvass", goal_doors=1000, starts_on=now.date()
    )
    questions = script_replace(
        campaign=campaign,
        questions=[
            ("Will you vote yes on Measure V?", ["Yes", "No", "Undecided"]),
            ("What matters most to you here?", ["Housing", "Safety", "Transit"]),
        ],
    )
    options = [list(question.options.order_by("position")) for question in questions]

    doors = _rose_ave_doors(org)
    people: dict[int, list[Person]] = {}
    for i, door in enumerate(doors):
        if i % 2 == 0:  # half the doors; every other one of those has two people
            made = [
                f.PersonFactory(door=door, first_name=_FIRST[(i + k) % 10], last_name=_LAST[(i // 2) % 10])
                for k in range(2 if i % 4 == 0 else 1)
            ]
            people[door.pk] = sorted(made, key=lambda person: (person.last_name, person.first_name))  # as Person.Meta
    buildings: dict[str, list[Door]] = {}
    for door in doors:
        buildings.setdefault(door.building_key, []).append(door)
    buildings = {key: units for key, units in buildings.items() if len(units) > 1}
    lats = [d.lat for d in doors if d.lat is not None]
    lngs = [d.lng for d in doors if d.lng is not None]
    box = [round(x, 6) for x in (min(lngs) - 0.0003, min(lats) - 0.0003, max(lngs) + 0.0003, max(lats) + 0.0003)]
    turf = f.TurfFactory(
        campaign=campaign,
        name="Turf 001",
        polygon={
            "type": "Polygon",
            "coordinates": [[[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]], [box[0], box[1]]]],
        },
        door_count=len(doors),
        building_count=len({d.building_key for d in doors}),
        person_count=sum(len(p) for p in people.values()),
    )
    for position, door in enumerate(doors):
        f.TurfDoorFactory(turf=turf, door=door, position=position)
    assignment = assignment_create(
        organization=org,
        actor=organizer,
        turf=turf,
        canvassers=[canvasser],
        starts_at=now - dt.timedelta(hours=1),
    )
    soon = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=30)
    shifts = [
        shift_create(
            organization=org,
            actor=organizer,
            campaign=campaign,
            name=name,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            location_name="Rose Ave and 7th",
            lat=VENICE[0],
            lng=VENICE[1] - 0.001,
            capacity=capacity,
        )
        for name, start, capacity in (
            ("Rose Ave, this afternoon", soon, 10),
            ("Rose Ave, tomorrow", soon + dt.timedelta(days=1), 2),
        )
    ]
    return AppWorld(
        org=org,
        other_org=other_org,
        organizer=organizer,
        canvasser=canvasser,
        outsider=outsider,
        password=PASSWORD,
        campaign=campaign,
        questions=questions,
        options=options,
        result_codes=list(ResultCode.objects.filter(organization=org).order_by("position")),
        turf=turf,
        doors=doors,
        buildings=buildings,
        people=people,
        assignment=assignment,
        shifts=shifts,
        other_door=f.DoorFactory(organization=other_org),
    )


@pytest.fixture
def api_token(transactional_db) -> Callable[..., str]:
    """api_token(user, device_id="api-beside-the-browser") -> the key of a new device
    token, made by the real login service; send it as `Authorization: Token <key>`."""

    def issue(user: User, device_id: str = "api-beside-the-browser") -> str:
        return device_token_create(user=user, device_id=device_id, device_name="test client").key

    return issue
