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
from services.notifications import purposes


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
    """Purposes compare as codes of the consent vocabulary (ConsentPurpose); a Danish
    phrase from before the vocabulary counts as the code it meant, and other text is
    compared whitespace-collapsed and case-folded, as intake compared it."""
    return purposes.same_purpose(a, b)


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
    # The partner a hand-off names (partners.handoff_requested): on each of its
    # subscriptions, or by e-mail to its directory contact. Not for routing rules.
    PARTNER = "partner"


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
# Every recipient outside the municipality: the kinds of partner routing rules reach,
# and the partner a hand-off names.
GATED_RECIPIENTS = frozenset({*PARTNER_RECIPIENTS, RecipientKind.PARTNER})

# Hand-offs (issue 16): addressed to one partner by name, on every subscription it has,
# whatever kind of partner it is. A subscription may also name them explicitly.
HANDOFF_REQUESTED = "partners.handoff_requested"
HANDOFF_UPDATED = "partners.handoff_updated"
HANDOFF_EVENTS = frozenset({HANDOFF_REQUESTED, HANDOFF_UPDATED})

# The event types each kind of partner may subscribe to: an allow-list, exact names,
# no wildcards, so that a new event type is invisible to partners until added here.
# A subscription without a partner kind (an offer, a volunteer organisation) may
# subscribe to hand-offs only.
PARTNER_VISIBLE: Mapping[PartnerKind | None, frozenset[str]] = {
    # Only the typed statement about the association's own tenancy (the delivery goes
    # to the association named in it, and the gate's recipient check confines it),
    # never the internal escalation behind it (housing.case_escalated stays inside).
    PartnerKind.HOUSING: frozenset({"housing.partner_status"}) | HANDOFF_EVENTS,
    # The one-way bridging statement (brobygning) and its cancellation, as the jobcenter
    # has received them since the first release; new partners answer hand-offs instead.
    PartnerKind.EMPLOYMENT: frozenset({"intake.bridging_due", "intake.bridging_cancelled"})
    | HANDOFF_EVENTS,
    # Education and health partners get bridging as hand-offs (bridging_education,
    # bridging_health): no routing rule ever sent them the one-way statement.
    PartnerKind.EDUCATION: HANDOFF_EVENTS,
    PartnerKind.HEALTH: HANDOFF_EVENTS,
    None: HANDOFF_EVENTS,
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
    RecipientKind.PARTNER: frozenset(
        {DeliveryChannel.EMAIL, DeliveryChannel.WEBHOOK, DeliveryChannel.PARTNER_QUEUE}
    ),
}


@dataclass(frozen=True)
class RoutingRule:
    """When `event_type` happens, tell `recipient_kind` by `channel`.

    `information_kind` and `purpose` (a ConsentPurpose code) are what the gate is asked
    about for partners. A rule to staff or to the citizen needs no consent: its purpose
    may be None, and only names what intake logs a send-time lookup under.
    """

    event_type: str
    recipient_kind: RecipientKind
    channel: DeliveryChannel
    information_kind: str
    purpose: str | None

    @property
    def needs_gate(self) -> bool:
        """True when the recipient is a partner, so consent or a legal basis is needed."""
        return self.recipient_kind in GATED_RECIPIENTS


def routing_rule(
    event_type: str,
    recipient_kind: str,
    channel: str,
    information_kind: str,
    purpose: str | None,
) -> RoutingRule:
    """Build a RoutingRule from configuration values and validate it. The purpose is
    stored as its ConsentPurpose code (a known Danish phrase is read as its code)."""
    try:
        kind = RecipientKind(recipient_kind)
    except ValueError:
        raise DomainError(
            "recipient_kind", "routing.unknown_recipient_kind", f"Unknown: {recipient_kind!r}."
        ) from None
    if kind is RecipientKind.PARTNER:
        raise DomainError(
            "recipient_kind", "routing.handoff_recipient",
            "A hand-off names its partner and is delivered on every subscription the "
            "partner has: it needs no routing rule.",
        )
    try:
        how = DeliveryChannel(channel)
    except ValueError:
        raise DomainError("channel", "routing.unknown_channel", f"Unknown: {channel!r}.") from None
    code = None
    if purpose:
        found = purposes.code_of(purpose)
        if found is None:
            raise DomainError(
                "purpose", "routing.unknown_purpose",
                f"Not a consent purpose. Allowed: {', '.join(purposes.allowed_values())}.",
            )
        code = found.value
    rule = RoutingRule(event_type, kind, how, information_kind, code)
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
    if not rule.information_kind:
        raise DomainError(
            "information_kind", "routing.kind_and_purpose_required", "Must be named."
        )
    partner = PARTNER_RECIPIENTS.get(rule.recipient_kind)
    if partner is not None:
        if not rule.purpose:
            # What the consent gate compares with the citizen's consent.
            raise DomainError(
                "purpose", "routing.kind_and_purpose_required",
                "A rule to a partner names the consent purpose. Allowed: "
                f"{', '.join(purposes.allowed_values())}.",
            )
        validate_subscription(partner, [rule.event_type])


def validate_subscription(
    partner_kind: PartnerKind | str | None, event_types: Iterable[str]
) -> None:
    """Refuse a partner subscription that includes any event type it may not see."""
    try:
        kind = None if partner_kind is None else PartnerKind(partner_kind)
    except ValueError:
        raise DomainError(
            "partner_kind", "subscription.unknown_partner_kind", f"Unknown: {partner_kind!r}."
        ) from None
    visible = PARTNER_VISIBLE[kind]
    hidden = sorted(set(event_types) - visible)
    if hidden:
        who = f"A {kind} partner" if kind is not None else "A partner without a partner kind"
        raise DomainError(
            "event_type",
            "subscription.not_visible_to_partner",
            f"{who} may not receive: {', '.join(hidden)}. It may receive: "
            f"{', '.join(sorted(visible))}.",
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
