"""Days of the stats: the organization's local day of a knock, a range of days as a
window of aware datetimes, and the conversions raw SQL over those needs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import connection


def local_day(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return moment.astimezone(tz).date()


def day_window(day_from: dt.date, day_to: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of day_from, local midnight after day_to) as aware datetimes."""
    lo = dt.datetime.combine(day_from, dt.time(), tzinfo=tz)
    hi = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return lo, hi


def db_datetime(moment: dt.datetime) -> str | None:
    """A datetime as a raw query parameter: SQLite compares UTC text, so convert like the ORM does."""
    return connection.ops.adapt_datetimefield_value(moment.astimezone(dt.UTC))


def as_date(value: object) -> dt.date:
    # PostgreSQL returns dates; SQLite's date functions return 'YYYY-MM-DD' text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
