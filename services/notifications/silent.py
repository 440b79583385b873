"""Silent subscriptions: a partner subscription that can deliver nothing, and why.

Issue 16 found subscriptions that were accepted and then received nothing, with no
one told. Operators now see each such subscription on a worklist
(`/api/worklists/operators/silent-subscriptions`) and as a metric
(`samspil_silent_subscriptions` on the health port's `/metrics`). A subscription is
silent, most urgent reason first, when:

1. `only_blocked`: deliveries were planned for it and every one is blocked by the
   consent gate (no consent and no legal basis): nothing has ever left. Adding the
   basis (or the citizen's consent) sends them, in order, and it leaves the list.
2. `partner_unknown`: its partner is not in the partner directory: it gets no
   hand-offs, and no citizen can consent to sharing with it.
3. `partner_inactive`: its partner is deactivated in the directory.
4. `nothing_routed`: no routing rule sends any of its event types to its kind of
   partner over its channel, and its partner accepts no hand-off that goes to
   subscriptions.

Pure: the caller loads the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from contracts.vocabulary import HandoffKind
from services.notifications.gate import PARTNER_RECIPIENTS, RoutingRule, subscribes_to
from services.notifications.handoffs import delivered_to_subscriptions
from services.notifications.routing import PartnerSubscription


class SilentReason(StrEnum):
    ONLY_BLOCKED = "only_blocked"
    PARTNER_UNKNOWN = "partner_unknown"
    PARTNER_INACTIVE = "partner_inactive"
    NOTHING_ROUTED = "nothing_routed"


# Most urgent first: data is waiting, then what keeps everything from starting.
RANK: Mapping[SilentReason, int] = {reason: i for i, reason in enumerate(SilentReason)}

REASON_TEXTS: Mapping[SilentReason, str] = {
    SilentReason.ONLY_BLOCKED: (
        "Alt, hvad der er planlagt til abonnementet, er blokeret: der er hverken samtykke "
        "eller lovgrundlag. Registrér lovgrundlaget (eller indhent samtykke), så sendes "
        "det, i rækkefølge."
    ),
    SilentReason.PARTNER_UNKNOWN: (
        "Partneren findes ikke i partnerkataloget: den får ingen overdragelser, og ingen "
        "borger kan give samtykke til den. Opret partneren i kataloget, eller fjern "
        "abonnementet."
    ),
    SilentReason.PARTNER_INACTIVE: (
        "Partneren er deaktiveret i partnerkataloget og får ingen nye overdragelser. "
        "Genaktivér partneren, eller fjern abonnementet."
    ),
    SilentReason.NOTHING_ROUTED: (
        "Ingen regel sender abonnementets beskedtyper til denne slags partner over denne "
        "kanal, og partneren tager ikke imod overdragelser. Ret abonnementet eller "
        "partnerens overdragelser i kataloget."
    ),
}


@dataclass(frozen=True)
class DirectoryEntry:
    """The partner as the directory last told of it."""

    active: bool
    accepts: frozenset[str]


@dataclass(frozen=True)
class Ledger:
    """How the subscription's deliveries stand: blocked by the gate, and sent."""

    blocked: int = 0
    sent: int = 0


def why_silent(
    subscription: PartnerSubscription,
    partner: DirectoryEntry | None,
    ledger: Ledger,
    rules: Iterable[RoutingRule],
) -> SilentReason | None:
    """Why `subscription` can deliver nothing, or None when it can deliver."""
    if ledger.blocked and not ledger.sent:
        return SilentReason.ONLY_BLOCKED
    if partner is None:
        return SilentReason.PARTNER_UNKNOWN
    if not partner.active:
        return SilentReason.PARTNER_INACTIVE
    if not _routed(subscription, rules) and not _gets_handoffs(partner):
        return SilentReason.NOTHING_ROUTED
    return None


def _routed(subscription: PartnerSubscription, rules: Iterable[RoutingRule]) -> bool:
    """Does some routing rule send one of its event types to it?"""
    for rule in rules:
        kind = PARTNER_RECIPIENTS.get(rule.recipient_kind)
        if kind is None or kind != subscription.partner_kind:
            continue
        if rule.channel == subscription.channel and subscribes_to(
                subscription.event_types, rule.event_type):
            return True
    return False


def _gets_handoffs(partner: DirectoryEntry) -> bool:
    for kind in partner.accepts:
        try:
            if delivered_to_subscriptions(HandoffKind(kind)):
                return True
        except ValueError:  # a kind this version does not know: not deliverable here
            continue
    return False
