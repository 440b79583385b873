"""The consent gate and the routing rules: who may receive what, decided as data.

Nothing leaves Samspil for a partner unless `decide` says so: a consent (samtykke)
that names this recipient, this kind of information and this purpose, given before
and not withdrawn by the moment of sending, or a documented legal basis. The gate
is asked at every delivery attempt, not only when the delivery is planned, so a
consent withdrawn between a failed attempt and its retry stops the retry.

`recipient` is the identity of one partner organisation (e.g. one boligforening),
not a kind of partner: a consent to share with one housing association never lets
data go to another, and that is what confines a partner to its own tenancies.

Everything here is pure: the service loads grants and bases and passes them in.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from contracts.vocabulary import PartnerKind
from services.common.errors import DomainError


class Reason(StrEnum):
    """Why the gate allowed or blocked a delivery: stable identifiers for the log."""

    CONSENT = "consent"
    LEGAL_BASIS = "legal_basis"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    KIND_NOT_COVERED = "kind_not_covered"
    PURPOSE_NOT_COVERED = "purpose_not_covered"


@dataclass(frozen=True)
class ConsentGrant:
    """One consent as intake published it: to whom, which kinds, for what, when."""

    consent_id: str
    citizen_ref: str
    recipient: str
    information_kinds: frozenset[str]
    purpose: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None = None

    def is_active(self, at: dt.datetime) -> bool:
        """Given by `at` and not yet withdrawn: withdrawal counts from its own instant."""
        return self.given_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)

    def covers(self, information_kind: str, purpose: str) -> bool:
        return information_kind in self.information_kinds and same_purpose(purpose, self.purpose)


@dataclass(frozen=True)
class LegalBasis:
    """A disclosure the law allows without consent, e.g. "retssikkerhedsloven § 5 a"."""

    recipient: str
    information_kind: str
    purpose: str
    reference: str


@dataclass(frozen=True)
class Decision:
    """The gate's answer. `basis` is the consent id or the legal reference relied on."""

    allowed: bool
    reason: Reason
    basis: str | None = None


def decide(
    *,
    citizen_ref: str,
    recipient: str,
    information_kind: str,
    purpose: str,
    at: dt.datetime,
    grants: Iterable[ConsentGrant],
    legal_bases: Iterable[LegalBasis] = (),
) -> Decision:
    """May `information_kind` about `citizen_ref` go to `recipient` for `purpose` at `at`?

    A valid consent is preferred over a legal basis as the recorded basis, because it
    is the citizen's own choice. When blocked, the reason is the most specific one:
    a withdrawn consent that would have covered this beats a narrower active consent.
    Arguments are keyword-only: several are strings and must not be swapped silently.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    recipient = recipient.strip()
    relevant = [
        g
        for g in grants
        if g.citizen_ref == citizen_ref and g.recipient.strip() == recipient and g.given_at <= at
    ]
    active = [g for g in relevant if g.is_active(at)]
    covering = [g for g in active if g.covers(information_kind, purpose)]
    if covering:
        # The most recent consent is the one the citizen last confirmed.
        newest = max(covering, key=lambda g: g.given_at)
        return Decision(True, Reason.CONSENT, newest.consent_id)
    for basis in legal_bases:
        if (
            basis.recipient.strip() == recipient
            and basis.information_kind == information_kind
            and same_purpose(basis.purpose, purpose)
        ):
            return Decision(True, Reason.LEGAL_BASIS, basis.reference)
    if not relevant:
        return Decision(False, Reason.NO_CONSENT)
    withdrawn = [g for g in relevant if not g.is_active(at)]
    if not active or any(g.covers(information_kind, purpose) for g in withdrawn):
        return Decision(False, Reason.CONSENT_WITHDRAWN)
    if any(information_kind in g.information_kinds for g in active):
        return Decision(False, Reason.PURPOSE_NOT_COVERED)
    return Decision(False, Reason.KIND_NOT_COVERED)


def same_purpose(a: str, b: str) -> bool:
    """Purposes compare as intake compares them: whitespace collapsed, case folded.

    Intake owns consent (services.intake.consent.normalise_purpose); the gate must
    not block what intake says is covered, nor allow what it does not.
    """
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# -- routing rules ----------------------------------------------------------------


class RecipientKind(StrEnum):
    """Who a routing rule sends to."""

    TOVHOLDER = "tovholder"  # the pathway's lead coordinator
    TEAM_MEMBERS = "team_members"  # the staff the event names (participants, owner, member)
    CITIZEN = "citizen"
    NETWORK = "network"  # pårørende and network persons invited to a meeting
    JOBCENTER = "jobcenter"
    HOUSING_ASSOCIATION = "housing_association"  # boligforening
    # The team mailboxes (the MAILBOXES setting): where no one person is responsible.
    FRONTEN = "fronten"  # Fronten's shared mailbox (also when no tovholder is known)
    COORDINATORS = "coordinators"  # take referrals in and appoint tovholdere
    SOCIAL_VEJLEDNING = "social_vejledning"  # § 85 decisions
    REVIEW_PANEL = "review_panel"  # det tværgående udvalg
    HOUSING_OFFICERS = "housing_officers"  # the boligsocial team


# The recipient kinds that are a team's shared mailbox, and the MAILBOXES key of each.
MAILBOX_KINDS: Mapping[RecipientKind, str] = {
    RecipientKind.FRONTEN: "fronten",
    RecipientKind.COORDINATORS: "coordinators",
    RecipientKind.SOCIAL_VEJLEDNING: "social_vejledning",
    RecipientKind.REVIEW_PANEL: "review_panel",
    RecipientKind.HOUSING_OFFICERS: "housing",
}

# People whose address is asked for at send time (never stored): one rule per event,
# and their own choice (or what they have: e-mail or phone) decides the channel.
PERSONAL_RECIPIENTS = frozenset({RecipientKind.CITIZEN, RecipientKind.NETWORK})


class DeliveryChannel(StrEnum):
    """How a notification travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    PARTNER_QUEUE = "partner_queue"
    SMS = "sms"


# Partners are organisations outside the municipality: every delivery to them passes
# the consent gate. Staff and the citizen receive what their work or their own case
# needs, which the routing rules themselves decide.
PARTNER_RECIPIENTS: Mapping[RecipientKind, PartnerKind] = {
    RecipientKind.JOBCENTER: PartnerKind.EMPLOYMENT,
    RecipientKind.HOUSING_ASSOCIATION: PartnerKind.HOUSING,
}

# The event types each kind of partner may subscribe to: an allow-list, exact names,
# no wildcards, so that a new event type is invisible to partners until added here.
PARTNER_VISIBLE: Mapping[PartnerKind, frozenset[str]] = {
    # Only the typed statement about the association's own tenancy (the delivery goes
    # to the association named in it, and the gate's recipient check confines it),
    # never the internal escalation behind it (housing.case_escalated stays inside).
    PartnerKind.HOUSING: frozenset({"housing.partner_status"}),
    # Bridging (brobygning) at the end of a course, and its cancellation when the course
    # ends early.
    PartnerKind.EMPLOYMENT: frozenset({"intake.bridging_due", "intake.bridging_cancelled"}),
    PartnerKind.EDUCATION: frozenset({"intake.bridging_due", "intake.bridging_cancelled"}),
    PartnerKind.HEALTH: frozenset(),
}

# A partner subscribed to an event also receives the events that correct it: whoever
# was told that bridging starts is told when it is cancelled, without subscribing again.
CORRECTIONS: Mapping[str, str] = {
    "intake.bridging_cancelled": "intake.bridging_due",
}


def subscribes_to(event_types: Iterable[str], event_type: str) -> bool:
    """Does a subscription to `event_types` cover `event_type` (directly, or as the
    correction of an event it covers)?"""
    covered = set(event_types)
    return event_type in covered or CORRECTIONS.get(event_type) in covered


# Which channels reach which recipients: no SMS or e-mail text to a partner system's
# queue, no webhook to a person.
ALLOWED_CHANNELS: Mapping[RecipientKind, frozenset[DeliveryChannel]] = {
    RecipientKind.CITIZEN: frozenset({DeliveryChannel.EMAIL, DeliveryChannel.SMS}),
    RecipientKind.NETWORK: frozenset({DeliveryChannel.EMAIL, DeliveryChannel.SMS}),
    RecipientKind.TOVHOLDER: frozenset({DeliveryChannel.EMAIL}),
    RecipientKind.TEAM_MEMBERS: frozenset({DeliveryChannel.EMAIL}),
    **{kind: frozenset({DeliveryChannel.EMAIL}) for kind in MAILBOX_KINDS},
    RecipientKind.JOBCENTER: frozenset(
        {DeliveryChannel.EMAIL, DeliveryChannel.WEBHOOK, DeliveryChannel.PARTNER_QUEUE}
    ),
    RecipientKind.HOUSING_ASSOCIATION: frozenset(
        {DeliveryChannel.EMAIL, DeliveryChannel.WEBHOOK, DeliveryChannel.PARTNER_QUEUE}
    ),
}


@dataclass(frozen=True)
class RoutingRule:
    """When `event_type` happens, tell `recipient_kind` by `channel`.

    `information_kind` and `purpose` are what the gate is asked about for partners.
    """

    event_type: str
    recipient_kind: RecipientKind
    channel: DeliveryChannel
    information_kind: str
    purpose: str

    @property
    def needs_gate(self) -> bool:
        """True when the recipient is a partner, so consent or a legal basis is needed."""
        return self.recipient_kind in PARTNER_RECIPIENTS


def routing_rule(
    event_type: str,
    recipient_kind: str,
    channel: str,
    information_kind: str,
    purpose: str,
) -> RoutingRule:
    """Build a RoutingRule from configuration values and validate it."""
    try:
        kind = RecipientKind(recipient_kind)
    except ValueError:
        raise DomainError(
            "recipient_kind", "routing.unknown_recipient_kind", f"Unknown: {recipient_kind!r}."
        ) from None
    try:
        how = DeliveryChannel(channel)
    except ValueError:
        raise DomainError("channel", "routing.unknown_channel", f"Unknown: {channel!r}.") from None
    rule = RoutingRule(event_type, kind, how, information_kind, purpose)
    validate_routing_rule(rule)
    return rule


def validate_routing_rule(rule: RoutingRule) -> None:
    """Refuse a rule that uses a wrong channel or shows a partner an event it may not see."""
    if "." not in rule.event_type:
        raise DomainError(
            "event_type", "routing.invalid_event_type", "Must look like 'service.event_name'."
        )
    if rule.channel not in ALLOWED_CHANNELS[rule.recipient_kind]:
        raise DomainError(
            "channel",
            "routing.channel_not_allowed",
            f"{rule.channel} cannot reach {rule.recipient_kind}.",
        )
    if not rule.information_kind or not rule.purpose:
        raise DomainError(
            "information_kind", "routing.kind_and_purpose_required", "Both must be named."
        )
    partner = PARTNER_RECIPIENTS.get(rule.recipient_kind)
    if partner is not None:
        validate_subscription(partner, [rule.event_type])


def validate_subscription(partner_kind: PartnerKind | str, event_types: Iterable[str]) -> None:
    """Refuse a partner subscription that includes any event type it may not see."""
    try:
        visible = PARTNER_VISIBLE[PartnerKind(partner_kind)]
    except ValueError:
        raise DomainError(
            "partner_kind", "subscription.unknown_partner_kind", f"Unknown: {partner_kind!r}."
        ) from None
    hidden = sorted(set(event_types) - visible)
    if hidden:
        raise DomainError(
            "event_type",
            "subscription.not_visible_to_partner",
            f"A {partner_kind} partner may not receive: {', '.join(hidden)}.",
        )


def rules_for(event_type: str, rules: Iterable[RoutingRule]) -> list[RoutingRule]:
    """The rules that fire for `event_type`, in configuration order."""
    return [rule for rule in rules if rule.event_type == event_type]


# -- webhook URLs ------------------------------------------------------------------


def validate_webhook_url(url: str, *, allow_loopback: bool = False) -> str:
    """Return `url` if a partner webhook may point there, else raise DomainError.

    Only https, so that the body and its signature are not readable on the way.
    Loopback hosts (127.0.0.0/8, ::1, localhost) are for tests only, and only when
    `allow_loopback` is set; there plain http is accepted too. Credentials in the URL
    are refused: they would be logged with it. Resolving names to private addresses
    (SSRF) cannot be checked here without I/O; the HTTP transport must do that.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        host = None
    if not host:
        raise DomainError("url", "webhook.invalid_url", "Must be an absolute URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise DomainError("url", "webhook.credentials_in_url", "Must not carry credentials.")
    loopback = _is_loopback(host)
    plain_http_allowed = parts.scheme == "http" and loopback and allow_loopback
    if parts.scheme != "https" and not plain_http_allowed:
        raise DomainError("url", "webhook.https_required", "Must use https.")
    if loopback and not allow_loopback:
        # https://127.0.0.1/ would make Samspil post signed data to its own host.
        raise DomainError("url", "webhook.loopback_not_allowed", "Must not point at this host.")
    return url


def _is_loopback(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address.is_loopback
