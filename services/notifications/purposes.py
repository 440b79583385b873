"""Purposes: the consent vocabulary (contracts.vocabulary.ConsentPurpose) as the gate,
the routing rules and the legal bases use it, with the Danish words a person reads.

A routing rule's, a legal basis's and a consent's purpose is a `ConsentPurpose` code,
never free text, so that the gate can match them (issue 16, point 6). Consents and
rules written before the vocabulary carried Danish phrases; the known ones are read as
their code (`canonical`), so an old consent in the projection still matches a new
rule, and nothing that was allowed before is blocked by the change of words.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts.notifications import purpose_code
from contracts.vocabulary import ConsentPurpose

# What each purpose is called where a person reads it: the access log a citizen asks
# for, the purpose intake logs a send-time lookup under, the operator's lists.
PURPOSE_TEXTS: Mapping[ConsentPurpose, str] = {
    ConsentPurpose.BRIDGING_EMPLOYMENT: "brobygning til beskæftigelse",
    ConsentPurpose.BRIDGING_EDUCATION: "brobygning til uddannelse",
    ConsentPurpose.BRIDGING_HEALTH: "brobygning til sundhed",
    ConsentPurpose.PATHWAY_TEAM: "samarbejde i et sammenhængende borgerforløb",
    ConsentPurpose.KEEP_HOME: "at fastholde boligen (huslejerestance)",
    ConsentPurpose.OFFER_REFERRAL: "henvisning til et andet tilbud",
}

# The Danish text of a staff mail's lookup when its rule names no consent purpose (a
# mail to staff needs no consent; intake still logs why the citizen's name was read).
STAFF_LOOKUP_PURPOSE = "besked til medarbejdere om borgerens sag"


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def code_of(text: str | None) -> ConsentPurpose | None:
    """The ConsentPurpose `text` is (a code, or a Danish phrase from before the
    vocabulary: contracts.notifications.LEGACY_PURPOSE_PHRASES), else None."""
    return purpose_code(text)


def canonical(text: str) -> str:
    """The form purposes are compared in: the code where `text` is one (or a known
    phrase for one), else the text whitespace-collapsed and case-folded."""
    code = code_of(text)
    return code.value if code is not None else _folded(text)


def same_purpose(a: str, b: str) -> bool:
    """Do two purposes mean the same? Codes and their legacy phrases are one purpose."""
    return canonical(a) == canonical(b)


def text_of(purpose: str | None) -> str:
    """The Danish words for a purpose (a code, a legacy phrase or older free text)."""
    if not purpose:
        return STAFF_LOOKUP_PURPOSE
    code = code_of(purpose)
    return PURPOSE_TEXTS[code] if code is not None else purpose


def allowed_values() -> list[str]:
    """Every purpose code, for a 400 that lists what is allowed."""
    return [p.value for p in ConsentPurpose]
