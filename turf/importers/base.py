"""What every importer shares: problems with their place, reports, progress.

Importers never stop at the first bad row: they collect every problem with
its line (CSV) or feature number (GeoJSON), skip those rows and report them.
In strict mode any problem aborts the import and nothing is written.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import TextIOBase
from typing import TextIO

# progress(done, total, message): total may be None when it is not known yet.
ProgressCallback = Callable[[int, "int | None", str], None]


def no_progress(done: int, total: int | None, message: str) -> None:
    return None


@dataclass(frozen=True)
class ImportProblem:
    where: str  # "line 12" or "feature 3"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportAborted(Exception):
    """The file cannot be imported at all, or strict mode met a problem.

    Nothing was written. `problems` lists everything found.
    """

    def __init__(self, message: str, problems: list[ImportProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{self.message}\n{shown}{more}"


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows imported but not matched to a door exactly: how they were matched, or why not.
    matches: list[ImportProblem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"rows read: {self.rows_read}",
            f"created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}, skipped: {self.skipped}",
        ]
        out += [f"{name}: {value}" for name, value in self.counts.items()]
        out += [f"note: {note}" for note in self.notes]
        if self.matches:
            out.append(f"{len(self.matches)} address(es) not matched exactly, imported as said:")
            out += [f"  {m}" for m in self.matches[:200]]
            if len(self.matches) > 200:
                out.append(f"  … and {len(self.matches) - 200} more")
        if self.problems:
            out.append(f"{len(self.problems)} problem(s), rows skipped:")
            out += [f"  {p}" for p in self.problems[:200]]
            if len(self.problems) > 200:
                out.append(f"  … and {len(self.problems) - 200} more")
        out.append(f"took {self.seconds:.1f} s")
        return out


class ConsoleProgress:
    """Periodic counts on a terminal: at most one line a second, and the last one."""

    def __init__(self, stream: TextIO | TextIOBase | None = None, every_seconds: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every_seconds
        self._last = 0.0

    def __call__(self, done: int, total: int | None, message: str) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < self.every:
            return
        self._last = now
        if total:
            self.stream.write(f"  {message}: {done:,}/{total:,} ({100 * done / total:.0f}%)\n")
        else:
            self.stream.write(f"  {message}: {done:,}\n")
        self.stream.flush()
