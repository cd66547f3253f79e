"""Reading an uploaded CSV file as text, line by line, so that an encoding error names its line."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from turf.importers.base import ImportAborted


class EncodingError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class open_binary:  # noqa: N801 - used as a context manager
    def __init__(self, source: str | Path | IO[bytes]) -> None:
        self.source = source
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> Iterable[bytes]:
        if isinstance(self.source, str | Path):
            try:
                self.handle = open(self.source, "rb")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise ImportAborted(f"cannot open {self.source}: {exc.strerror or exc}") from None
            return self.handle
        if isinstance(self.source, io.TextIOBase):
            # A text stream was given: encode back so every source takes one path.
            return (line.encode("utf-8") for line in self.source)
        return self.source

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def decoded_lines(binary: Iterable[bytes], nul_lines: set[int]) -> Iterator[str]:
    """Decode line by line so an encoding error names its line.

    Lines holding a NUL character are noted in nul_lines: no database text
    column can store one (PostgreSQL refuses it), so read_rows refuses the row.
    """
    for number, raw in enumerate(binary, start=1):
        if b"\x00" in raw:
            nul_lines.add(number)
        if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise EncodingError(1, "the file is UTF-16 (Excel 'Unicode Text'); re-save it as 'CSV UTF-8'")
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(
                number,
                f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}); "
                "the file is probably Latin-1 / Windows-1252: re-save it as 'CSV UTF-8' and import again",
            ) from None
