"""The days and moments fieldops accepts from a request, a form or a command.

Python's calendar ends at 9999-12-31: a range ending on that day overflowed
the moment the code asked for the midnight after it (`day + 1 day`), and a
moment near either end overflowed when it was converted to UTC (a 500 from the
VAN export with `date_to=9999-12-31`, and from a pull cursor with such a
date). No canvass falls outside 1970–2100, so every day or moment that comes
in is checked against those bounds, and a range against a maximum length,
here, once, before any arithmetic; each entry point turns the messages into
its own error (a 400 naming the field, a form error, a CommandError).
"""

from __future__ import annotations

import datetime as dt

EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
EARLIEST_MOMENT = dt.datetime.combine(EARLIEST_DAY, dt.time(), tzinfo=dt.UTC)
LATEST_MOMENT = dt.datetime.combine(LATEST_DAY, dt.time.max, tzinfo=dt.UTC)
# About ten years: a campaign's days, with room to spare.
MAX_RANGE_DAYS = 3660


def day_problem(day: dt.date | None) -> str | None:
    """Why `day` cannot be used, or None."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        return f"Give a day between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."
    return None


def moment_problem(moment: dt.datetime) -> str | None:
    """Why an aware `moment` cannot be used, or None. Compared without
    converting it to UTC (which is what overflows near the calendar's ends)."""
    if moment.tzinfo is None:
        return "Give a time with its UTC offset."
    if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
        return f"Give a time between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."
    return None


def day_range_problems(
    date_from: dt.date | None,
    date_to: dt.date | None,
    *,
    names: tuple[str, str] = ("date_from", "date_to"),
    max_days: int = MAX_RANGE_DAYS,
) -> dict[str, str]:
    """What is wrong with the inclusive range [date_from, date_to] (either end
    may be open), as {name of the input: message}; empty when it is fine."""
    problems: dict[str, str] = {}
    for name, day in zip(names, (date_from, date_to), strict=True):
        problem = day_problem(day)
        if problem:
            problems[name] = problem
    if problems or date_from is None or date_to is None:
        return problems
    if date_to < date_from:
        problems[names[1]] = f"{names[1]} is before {names[0]}."
    elif (date_to - date_from).days > max_days:
        problems[names[1]] = f"Ask for at most {max_days} days from {names[0]}."
    return problems
