"""Counting what a fault did to a run, Jepsen-style, from what was sent, what the client
was told and what the databases hold.

Every request carries a unique marker (in a free-text field the effect keeps, e.g. an
inquiry's wish). The test records each marker's outcome as the client saw it (an HTTP
status, or an exception's name when no answer came), then reads the effects back:
for each stage of the pipeline (intake's inquiries, then coordination's timeline, ...)
one marker per effect row, a row written twice giving its marker twice.

    verdict = check(outcomes, {"intake": intake_markers, "coordination": coord_markers},
                    dead_letters=3, recovery=[2.4, 1.9])
    print(verdict.line())
    assert verdict.safe, verdict.line()

- acknowledged: the client was told it was done (201 by default);
- lost: a stage misses a marker it must have: one acknowledged, or one an earlier stage
  holds (its event went missing between the two);
- duplicates: extra rows for a marker in a stage (a marker written n times counts n-1);
- unexpected: a row whose marker was never sent, or that a later stage holds but an
  earlier one does not;
- uncertain: not acknowledged (a 503, a 504, a timeout) yet done, in the first stage.
  A client that got no answer cannot know; these are allowed, and counted.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

#: Digits become letters: a marker never looks like a CPR number (which intake refuses
#: in free text), however the random draw falls.
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def marker(prefix: str = "m") -> str:
    """A unique marker of letters only, e.g. `m-abgkfe...`."""
    return f"{prefix}-{uuid.uuid4().hex[:16].translate(_LETTERS)}"

Outcome = int | str  # an HTTP status, or the name of the exception the client got


@dataclasses.dataclass(frozen=True)
class Verdict:
    sent: int
    acknowledged: int
    refused: dict[str, int]  # outcome -> count, for those not acknowledged
    effects: dict[str, int]  # stage -> rows
    duplicates: dict[str, int]
    lost: dict[str, int]
    unexpected: dict[str, int]
    uncertain: int
    dead_letters: int = 0
    recovery: tuple[float, ...] = ()

    @property
    def safe(self) -> bool:
        """Nothing lost, nothing doubled, nothing from nowhere."""
        return not (sum(self.lost.values()) or sum(self.duplicates.values())
                    or sum(self.unexpected.values()))

    def line(self) -> str:
        def per_stage(counts: Mapping[str, int]) -> str:
            total = sum(counts.values())
            if len(counts) < 2:
                return str(total)
            return f"{total} ({', '.join(f'{k} {v}' for k, v in counts.items())})"

        refused = ", ".join(f"{k}: {v}" for k, v in sorted(self.refused.items()))
        recovery = ", ".join(f"{s:.1f}" for s in self.recovery) or "-"
        return (f"sent {self.sent}, acknowledged {self.acknowledged}, not acknowledged "
                f"{self.sent - self.acknowledged}{f' [{refused}]' if refused else ''}, "
                f"effects {per_stage(self.effects)}, duplicates {per_stage(self.duplicates)}, "
                f"lost {per_stage(self.lost)}, unexpected {per_stage(self.unexpected)}, "
                f"uncertain {self.uncertain}, dead letters {self.dead_letters}, "
                f"recovery {recovery} s")


def check(
    outcomes: Mapping[str, Outcome],
    effects: Mapping[str, Iterable[str]],
    *,
    acknowledged: Callable[[Outcome], bool] = lambda outcome: outcome == 201,
    dead_letters: int = 0,
    recovery: Sequence[float] = (),
) -> Verdict:
    """`outcomes`: every marker sent -> what its client was told. `effects`: stage ->
    the marker of each effect row, in pipeline order (dicts keep their order)."""
    acked = {m for m, outcome in outcomes.items() if acknowledged(outcome)}
    refused = Counter(str(o) for m, o in outcomes.items() if m not in acked)
    rows: dict[str, Counter[str]] = {stage: Counter(markers)
                                     for stage, markers in effects.items()}
    lost: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    unexpected: dict[str, int] = {}
    upstream: set[str] = set()  # markers some earlier stage holds
    first = True
    for stage, counts in rows.items():
        held = set(counts)
        lost[stage] = len((acked | upstream) - held)
        duplicates[stage] = sum(n - 1 for n in counts.values() if n > 1)
        unexpected[stage] = sum(1 for m in held if m not in outcomes
                                or (not first and m not in upstream))
        upstream |= held
        first = False
    first_stage = next(iter(rows.values()), Counter())
    uncertain = sum(1 for m in first_stage if m in outcomes and m not in acked)
    return Verdict(sent=len(outcomes), acknowledged=len(acked), refused=dict(refused),
                   effects={s: sum(c.values()) for s, c in rows.items()},
                   duplicates=duplicates, lost=lost, unexpected=unexpected,
                   uncertain=uncertain, dead_letters=dead_letters,
                   recovery=tuple(recovery))
