"""Who is calling an RPC, and why: the actor every method takes.

The gateway (or the web app) decides the actor from the signed-in user or the token,
never from the client, and sends it as an object:

    {"kind": "staff", "id": "mette", "name": "Mette Hansen",
     "roles": ["tovholder"], "agency": "social_services", "purpose": "..."}

Services load it into an `Actor`. An `Actor` *is* its label (a `str`, e.g.
``"staff:mette"``), which is what access logs and `*_by` columns store, and it also
carries the roles, agency and partner id that need-to-know is decided on in the
service that owns the data. Service-to-service calls may send the bare label
(``"service:notifications"``), which loads as an actor with no roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts.fields import Enum
from contracts.vocabulary import Agency


class StaffRole(StrEnum):
    """What a person may do in Samspil. Mapped from the identity provider's groups."""

    FRONTEN = "fronten"  # Fronten's staff: inquiries, citizens, consent, courses
    TOVHOLDER = "tovholder"  # lead coordinator (and team member) of pathways
    COORDINATOR = "coordinator"  # takes referrals in and appoints tovholdere
    REVIEW_PANEL = "review_panel"  # det tværgående udvalg
    SOCIAL_VEJLEDNING = "social_vejledning"  # myndighed: § 85 decisions
    HOUSING_OFFICER = "housing_officer"  # follows rent-arrears cases
    OPERATOR = "operator"  # runs the system: dead letters, deliveries, partners
    PARTNER = "partner"  # a partner's user or machine: its own records only


class ActorKind(StrEnum):
    STAFF = "staff"  # a signed-in member of staff
    PARTNER = "partner"  # a partner organisation (user or machine token)
    SERVICE = "service"  # another Samspil service


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_LABEL = re.compile(r"^(staff|partner|service):(.{1,120})$", re.S)


class Actor(str):
    """The caller: a `str` (its label) with the facts need-to-know is decided on."""

    kind: ActorKind
    id: str
    name: str
    roles: frozenset[StaffRole]
    agency: Agency | None
    partner_id: str | None
    purpose: str | None

    def __new__(
        cls,
        kind: ActorKind | str,
        id: str,
        *,
        name: str | None = None,
        roles: Iterable[StaffRole | str] = (),
        agency: Agency | str | None = None,
        partner_id: str | None = None,
        purpose: str | None = None,
    ) -> Actor:
        kind = ActorKind(kind)
        self = super().__new__(cls, f"{kind.value}:{id}")
        self.kind = kind
        self.id = id
        self.name = name or id
        self.roles = frozenset(StaffRole(r) for r in roles)
        self.agency = Agency(agency) if agency else None
        self.partner_id = partner_id
        self.purpose = purpose
        return self

    @classmethod
    def from_label(cls, label: str) -> Actor:
        """``"service:notifications"`` and the like: an actor with no roles."""
        match = _LABEL.match(label)
        if not match:
            raise ValueError("An actor label looks like 'staff:<id>' or 'service:<name>'.")
        return cls(match.group(1), match.group(2))

    def has_role(self, *roles: StaffRole) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_service(self) -> bool:
        return self.kind is ActorKind.SERVICE

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "id": self.id, "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "agency": self.agency.value if self.agency else None,
            "partner_id": self.partner_id, "purpose": self.purpose,
        }

    def __reduce__(self) -> Any:  # copies and pickles keep the attributes
        return (_rebuild, (self.to_wire(),))


def _rebuild(wire: dict[str, Any]) -> Actor:
    return Actor(**wire)


def service_actor(name: str) -> Actor:
    return Actor(ActorKind.SERVICE, name)


class ActorSchema(Schema):
    kind = Enum(ActorKind, required=True)
    id = fields.String(required=True, validate=validate.Regexp(
        _ID, error="Letters, digits and . _ @ + -, at most 128."))
    name = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(min=1, max=200))
    roles = fields.List(Enum(StaffRole), load_default=list)
    agency = Enum(Agency, load_default=None, allow_none=True)
    partner_id = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=64))
    # Why the caller reads or changes the data: written to the access log.
    purpose = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=200))


class ActorField(fields.Field):
    """An RPC's `actor` argument: an object (from the gateway) or a bare label (from a
    service). Loads to an `Actor`; dumps to the object form."""

    default_error_messages = {  # noqa: RUF012
        "invalid": "An actor is an object (kind, id, roles, ...) or a label 'service:<name>'.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Actor:
        if isinstance(value, Actor):
            return value
        if isinstance(value, str):
            try:
                return Actor.from_label(value)
            except ValueError:
                raise self.make_error("invalid") from None
        if isinstance(value, dict):
            try:
                loaded = ActorSchema().load(value)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
            return Actor(**loaded)
        raise self.make_error("invalid")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Actor):
            return value.to_wire()
        return str(value)


def actor_field() -> ActorField:
    """`actor = actor_field()` in every RPC argument schema."""
    return ActorField(required=True)
