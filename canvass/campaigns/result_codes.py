"""The standard result codes every organization starts with (DESIGN.md).

label_es is the Spanish label a volunteer sees when their app is in Spanish;
an organizer may change it in the admin like the English one.
"""

from __future__ import annotations

from typing import NamedTuple


class StandardCode(NamedTuple):
    code: str
    label: str
    label_es: str
    is_contact: bool = False
    is_refusal: bool = False
    is_final: bool = False


STANDARD_RESULT_CODES: tuple[StandardCode, ...] = (
    StandardCode("canvassed", "Canvassed", "Contactado", is_contact=True),
    StandardCode("not_home", "Not home", "No está en casa"),
    StandardCode("come_back", "Come back", "Volver más tarde", is_contact=True),
    StandardCode("refused", "Refused", "Rechazó", is_contact=True, is_refusal=True),
    StandardCode("literature_dropped", "Literature dropped", "Folleto dejado"),
    StandardCode("language_barrier", "Language barrier", "Barrera de idioma", is_contact=True),
    StandardCode("inaccessible", "Inaccessible", "Inaccesible"),
    StandardCode("moved", "Moved", "Se mudó", is_final=True),
    StandardCode("deceased", "Deceased", "Falleció", is_final=True),
    StandardCode("hostile", "Hostile", "Hostil", is_contact=True, is_refusal=True, is_final=True),
)
