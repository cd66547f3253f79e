"""The standard result codes every organization starts with (DESIGN.md)."""

from __future__ import annotations

from typing import NamedTuple


class StandardCode(NamedTuple):
    code: str
    label: str
    is_contact: bool = False
    is_refusal: bool = False
    is_final: bool = False


STANDARD_RESULT_CODES: tuple[StandardCode, ...] = (
    StandardCode("canvassed", "Canvassed", is_contact=True),
    StandardCode("not_home", "Not home"),
    StandardCode("come_back", "Come back", is_contact=True),
    StandardCode("refused", "Refused", is_contact=True, is_refusal=True),
    StandardCode("literature_dropped", "Literature dropped"),
    StandardCode("language_barrier", "Language barrier", is_contact=True),
    StandardCode("inaccessible", "Inaccessible"),
    StandardCode("moved", "Moved", is_final=True),
    StandardCode("deceased", "Deceased", is_final=True),
    StandardCode("hostile", "Hostile", is_contact=True, is_refusal=True, is_final=True),
)
