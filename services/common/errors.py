"""Errors that cross a service boundary with a field name and a rule.

Domain code raises `DomainError` (or a subclass); entrypoints turn it into a
`InvalidInput` RPC error (nameko serialises exc_args as JSON), the gateway into an
RFC 9457 problem body. Nothing is written or published when one is raised, because
it is raised before the unit of work commits.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken.

    `field` names the offending input (dotted path, e.g. ``plan.goals``), `rule` is a
    stable machine-readable identifier (e.g. ``course.max_length_exceeded``), and
    `message` says it in plain words for the caller.
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(field, rule, message)
        self.field = field
        self.rule = rule
        self.message = message

    def as_problem(self) -> dict[str, Any]:
        return {"errors": [{"field": self.field, "rule": self.rule, "message": self.message}]}

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.rule})"


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, "not_found", message)


class Conflict(DomainError):
    """The request clashes with the current state (e.g. withdrawing a consent twice)."""
