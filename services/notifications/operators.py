"""The operators' use cases: routing rules, partner subscriptions, legal bases, the
delivery ledger, the silent-subscription worklist and its metric, and the citizen's
access report.

Operators reach these through the gateway's operator routes (and the CLI with an
operator actor). A legal basis recorded here releases the blocked deliveries it now
allows, in the order they were planned, in the same unit of work.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any, Protocol

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from contracts import registry
from contracts.actor import Actor, StaffRole
from services.common import access, worklist
from services.common.access import Action
from services.common.db import Store, UnitOfWork
from services.common.errors import Conflict, DomainError, NotFound
from services.common.localtime import local_day
from services.notifications import content, gate, purposes, silent
from services.notifications.gate import DeliveryChannel, RecipientKind
from services.notifications.handlers import reconsider_blocked
from services.notifications.ledger import (
    delivery_dict,
    load_rules,
    save_state,
    state_of,
    subscription_of,
)
from services.notifications.models import (
    DeliveryRow,
    DirectoryPartner,
    LegalBasisRow,
    RoutingRuleRow,
    Subscription,
)
from services.notifications.retry import DeliveryStatus
from services.notifications.secretbox import SecretBox

SERVICE = "notifications"
SILENT_LIST = "silent_subscriptions"
INSIGHT_PURPOSE = "borgerens anmodning om indsigt i, hvem der har set og fået oplysninger"


def require_role(actor: Any, *roles: StaffRole) -> None:
    """An action the actor's role never allows: refused naming `actor`. Services are
    trusted (the broker is the boundary)."""
    if not isinstance(actor, Actor):
        actor = Actor.from_label(str(actor))
    if actor.is_service or actor.has_role(*roles):
        return
    raise DomainError("actor", "not_allowed",
                      "This is for " + " or ".join(str(r) for r in roles) + " only.")


# -- routing rules ---------------------------------------------------------------------


def list_routing_rules(store: Store, event_type: str | None) -> list[dict[str, Any]]:
    with store.read() as session:
        query = select(RoutingRuleRow).order_by(RoutingRuleRow.id)
        if event_type:
            query = query.where(RoutingRuleRow.event_type == event_type)
        return [_rule_dict(r) for r in session.scalars(query)]


def _rule_dict(r: RoutingRuleRow) -> dict[str, Any]:
    return {"rule_id": r.id, "event_type": r.event_type, "recipient_kind": r.recipient_kind,
            "channel": r.channel, "information_kind": r.information_kind, "purpose": r.purpose,
            "purpose_text": purposes.text_of(r.purpose) if r.purpose else None,
            "created_by": r.created_by}


def add_routing_rule(uow: UnitOfWork, *, actor: str, **values: Any) -> dict[str, Any]:
    rule = gate.routing_rule(
        values["event_type"], values["recipient_kind"], values["channel"],
        values["information_kind"], values.get("purpose"),
    )
    _known_event_type(rule.event_type, "event_type")
    if rule.channel in (DeliveryChannel.EMAIL, DeliveryChannel.SMS):
        kind = content.template_kind(rule.event_type, rule.recipient_kind)
        if not content.templates.has_template(rule.event_type, kind):
            raise DomainError("event_type", "template.not_found",
                              f"No text for {rule.event_type} to {rule.recipient_kind}.")
    existing = uow.session.scalars(
        select(RoutingRuleRow).where(
            RoutingRuleRow.event_type == rule.event_type,
            RoutingRuleRow.recipient_kind == rule.recipient_kind.value,
            RoutingRuleRow.channel == rule.channel.value,
        )
    ).first()
    if existing is not None:
        raise Conflict("event_type", "routing.rule_exists",
                       f"Rule {existing.id} already does this.")
    if rule.recipient_kind in gate.PERSONAL_RECIPIENTS:
        # One rule per event for the citizen (and for network persons): their own
        # choice or what they have decides how it travels, so a second rule would only
        # send it twice.
        other = uow.session.scalars(
            select(RoutingRuleRow).where(
                RoutingRuleRow.event_type == rule.event_type,
                RoutingRuleRow.recipient_kind == rule.recipient_kind.value,
            )
        ).first()
        if other is not None:
            rule_name = "routing.citizen_rule_exists" \
                if rule.recipient_kind is RecipientKind.CITIZEN else "routing.network_rule_exists"
            raise Conflict("recipient_kind", rule_name,
                           f"Rule {other.id} already tells the {rule.recipient_kind} about this.")
    row = RoutingRuleRow(
        event_type=rule.event_type, recipient_kind=rule.recipient_kind.value,
        channel=rule.channel.value, information_kind=rule.information_kind,
        purpose=rule.purpose, created_at=uow.clock.now(), created_by=actor,
    )
    uow.session.add(row)
    uow.session.flush()
    result = _rule_dict(row)
    uow.commit()
    return result


def remove_routing_rule(uow: UnitOfWork, *, rule_id: int) -> dict[str, Any]:
    result = uow.session.execute(delete(RoutingRuleRow).where(RoutingRuleRow.id == rule_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("rule_id", f"No routing rule {rule_id}.")
    uow.commit()
    return {"rule_id": rule_id, "removed": True}


def _known_event_type(event_type: str, field: str) -> None:
    try:
        registry.latest_version(event_type)
    except Exception:
        raise DomainError(field, "routing.unknown_event_type",
                          f"{event_type} is not in the event catalogue.") from None


# -- partner subscriptions ----------------------------------------------------------------


def list_subscriptions(store: Store, partner_id: str | None) -> list[dict[str, Any]]:
    with store.read() as session:
        query = select(Subscription).where(Subscription.active.is_(True))
        if partner_id:
            query = query.where(Subscription.partner_id == partner_id)
        return [_subscription_dict(r) for r in session.scalars(query.order_by(Subscription.id))]


def _subscription_dict(r: Subscription) -> dict[str, Any]:
    """A subscription as operators see it: never a secret, but whether a rotation's
    overlap is running and until when (the old secret still signs until then)."""
    result: dict[str, Any] = {
        "subscription_id": r.id, "partner_id": r.partner_id, "partner_kind": r.partner_kind,
        "channel": r.channel, "event_types": list(r.event_types), "url": r.url}
    if r.channel == DeliveryChannel.WEBHOOK:
        result["secret_rotated_at"] = _iso(r.secret_rotated_at)
        result["previous_secret_expires_at"] = (
            _iso(r.previous_secret_expires_at) if r.previous_secret_ciphertext else None)
    return result


def _iso(at: Any) -> str | None:
    return None if at is None else at.isoformat()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class QueueDeclarer(Protocol):
    def declare(self, partner_id: str) -> None: ...


def add_subscription(
    uow: UnitOfWork,
    *,
    actor: str,
    partner_id: str,
    partner_kind: str | None,
    channel: str,
    event_types: list[str],
    url: str | None,
    secret: str | None,
    allow_loopback: bool,
    queues: QueueDeclarer,
    box: SecretBox,
) -> dict[str, Any]:
    """Validate and store a subscription. A webhook secret is generated when none is
    given, and returned this once; it is stored encrypted under `box`'s key. A partner
    queue is declared and bound at once.
    Every active subscription of a partner also receives the hand-offs to it."""
    for event_type in event_types:
        _known_event_type(event_type, "event_types")
    gate.validate_subscription(partner_kind, event_types)
    if channel == DeliveryChannel.WEBHOOK:
        if not url:
            raise DomainError("url", "webhook.url_required", "A webhook needs a URL.")
        gate.validate_webhook_url(url, allow_loopback=allow_loopback)
        secret = secret or new_webhook_secret()
    elif url or secret:
        raise DomainError("url", "subscription.url_only_for_webhooks",
                          "A partner queue has no URL or secret.")
    if channel == DeliveryChannel.PARTNER_QUEUE:
        # Before any row is written: no network I/O inside a (SQLite) transaction, and
        # no subscription without its queue. A queue left by a failed commit is empty.
        queues.declare(partner_id)
    row = Subscription(
        partner_id=partner_id, partner_kind=None if partner_kind is None else str(partner_kind),
        channel=channel, event_types=sorted(set(event_types)), url=url,
        secret_ciphertext=None if secret is None else box.encrypt(secret),
        active=True, created_at=uow.clock.now(), created_by=actor,
    )
    uow.session.add(row)
    uow.session.flush()
    result = _subscription_dict(row)
    uow.commit()
    if secret is not None:
        result["secret"] = secret
    return result


def rotate_subscription_secret(
    uow: UnitOfWork, *, actor: str, subscription_id: int, secret: str | None,
    overlap: dt.timedelta, box: SecretBox,
) -> dict[str, Any]:
    """Give a webhook subscription a new secret (generated when none is given, and then
    returned this once). The current one becomes the previous one and keeps signing
    beside the new one until `overlap` has passed (every delivery carries a signature
    under each), then it is retired. One rotation at a time: while an overlap runs,
    retire the previous secret first."""
    require_role(actor, StaffRole.OPERATOR)
    row = uow.session.get(Subscription, subscription_id)
    if row is None or not row.active:
        raise NotFound("subscription_id", f"No active subscription {subscription_id}.")
    if row.channel != DeliveryChannel.WEBHOOK:
        raise DomainError("subscription_id", "subscription.not_a_webhook",
                          "Only a webhook subscription has a secret.")
    now = uow.clock.now()
    expires = row.previous_secret_expires_at
    if row.previous_secret_ciphertext and expires is not None and now < expires:
        raise Conflict("subscription_id", "subscription.rotation_in_progress",
                       f"The previous secret still signs until {expires.isoformat()}: "
                       "retire it first.")
    generated = secret is None
    secret = secret or new_webhook_secret()
    current = row.secret_ciphertext
    if current is None and row.legacy_plain_secret:
        current = box.encrypt(row.legacy_plain_secret)  # written by a release before 0005
    row.secret_ciphertext = box.encrypt(secret)
    row.legacy_plain_secret = None
    row.previous_secret_ciphertext = current if overlap > dt.timedelta(0) else None
    row.previous_secret_expires_at = now + overlap if row.previous_secret_ciphertext else None
    row.secret_rotated_at = now
    result = _subscription_dict(row)
    uow.commit()
    if generated:
        result["secret"] = secret
    return result


def retire_previous_secret(uow: UnitOfWork, *, actor: str,
                           subscription_id: int) -> dict[str, Any]:
    """End a rotation's overlap now: the previous secret is forgotten and no longer signs."""
    require_role(actor, StaffRole.OPERATOR)
    row = uow.session.get(Subscription, subscription_id)
    if row is None or not row.active:
        raise NotFound("subscription_id", f"No active subscription {subscription_id}.")
    row.previous_secret_ciphertext = None
    row.previous_secret_expires_at = None
    result = _subscription_dict(row)
    uow.commit()
    return result


def remove_subscription(uow: UnitOfWork, *, subscription_id: int) -> dict[str, Any]:
    row = uow.session.get(Subscription, subscription_id)
    if row is None or not row.active:
        raise NotFound("subscription_id", f"No active subscription {subscription_id}.")
    row.active = False
    row.removed_at = uow.clock.now()
    uow.commit()
    return {"subscription_id": subscription_id, "removed": True}


# -- legal bases ----------------------------------------------------------------------------


def add_legal_basis(uow: UnitOfWork, *, actor: str, **values: str) -> dict[str, Any]:
    """Record a disclosure the law allows without consent, and send what it now allows
    that was blocked, in the order it was planned (`released` says how many)."""
    row = LegalBasisRow(**values, created_at=uow.clock.now(), created_by=actor)
    uow.session.add(row)
    uow.session.flush()
    result = _basis_dict(row)
    result["released"] = reconsider_blocked(uow, recipient=row.recipient)
    uow.commit()
    return result


def _basis_dict(r: LegalBasisRow) -> dict[str, Any]:
    return {"legal_basis_id": r.id, "recipient": r.recipient,
            "information_kind": r.information_kind, "purpose": r.purpose,
            "purpose_text": purposes.text_of(r.purpose), "reference": r.reference}


def list_legal_bases(store: Store) -> list[dict[str, Any]]:
    with store.read() as session:
        return [_basis_dict(r) for r in session.scalars(select(LegalBasisRow))]


# -- the ledger -------------------------------------------------------------------------------


def list_deliveries(uow: UnitOfWork, *, actor: str, limit: int,
                    **filters: Any) -> list[dict[str, Any]]:
    """The ledger, filtered, newest first. It names citizens (by reference): it is for
    operators (and services), and the search is logged."""
    require_role(actor, StaffRole.OPERATOR)
    query = select(DeliveryRow)
    for name, value in filters.items():
        if value is not None:
            column = getattr(DeliveryRow, name)
            query = query.where(column == (value if name == "subscription_id" else str(value)))
    rows = uow.session.scalars(query.order_by(DeliveryRow.id.desc()).limit(limit)).all()
    given = ", ".join(f"{k}={v}" for k, v in sorted(filters.items()) if v is not None)
    access.record(uow, actor=actor, action=Action.SEARCH, what="deliveries",
                  purpose=getattr(actor, "purpose", None) or "drift af leveringer",
                  criterion=f"deliveries: {given or 'alle'}")
    result = [delivery_dict(r) for r in rows]
    uow.commit()
    return result


def retry_delivery(uow: UnitOfWork, *, delivery_id: int) -> dict[str, Any]:
    """An operator sends a failed delivery again: a fresh round of attempts."""
    row = uow.session.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotFound("delivery_id", f"No delivery {delivery_id}.")
    state = state_of(row)
    state.replay(uow.clock.now())  # Conflict unless it failed
    save_state(row, state)
    uow.commit()
    return delivery_dict(row)


# -- silent subscriptions (issue 16, point 5) -------------------------------------------------


def silent_reasons(session: Session) -> dict[int, silent.SilentReason]:
    """Every active subscription that can deliver nothing, with the reason."""
    subscriptions = session.scalars(
        select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
    ).all()
    if not subscriptions:
        return {}
    directory = {
        r.partner_id: silent.DirectoryEntry(r.active, frozenset(r.accepts))
        for r in session.scalars(select(DirectoryPartner).where(
            DirectoryPartner.partner_id.in_({s.partner_id for s in subscriptions})))
    }
    counts: dict[tuple[int | None, str], int] = {
        (sid, status): n for sid, status, n in session.execute(
            select(DeliveryRow.subscription_id, DeliveryRow.status, func.count())
            .where(DeliveryRow.subscription_id.in_([s.id for s in subscriptions]))
            .group_by(DeliveryRow.subscription_id, DeliveryRow.status))
    }
    rules = [r for r in load_rules(session) if r.recipient_kind in gate.PARTNER_RECIPIENTS]
    found = {}
    for row in subscriptions:
        ledger = silent.Ledger(blocked=counts.get((row.id, DeliveryStatus.BLOCKED.value), 0),
                               sent=counts.get((row.id, DeliveryStatus.SENT.value), 0))
        reason = silent.why_silent(subscription_of(row), directory.get(row.partner_id),
                                   ledger, rules)
        if reason is not None:
            found[row.id] = reason
    return found


def silent_count(store: Store) -> int:
    """How many subscriptions can deliver nothing (the samspil_silent_subscriptions
    metric)."""
    with store.read() as session:
        return len(silent_reasons(session))


def silent_subscriptions(
    store: Store, *, actor: Any, cursor: str | None, limit: int
) -> dict[str, Any]:
    """The operators' worklist of silent subscriptions, most urgent reason first."""
    require_role(actor, StaffRole.OPERATOR)
    with store.read() as session:
        reasons = silent_reasons(session)
        if not reasons:
            if cursor:
                worklist.decode_cursor(cursor, SILENT_LIST, 2)  # a foreign cursor is a 400
            return {"items": [], "next_cursor": None}
        blocked = dict(session.execute(
            select(DeliveryRow.subscription_id, func.count())
            .where(DeliveryRow.subscription_id.in_(list(reasons)),
                   DeliveryRow.status == DeliveryStatus.BLOCKED.value)
            .group_by(DeliveryRow.subscription_id)).all())
        rank = case({sid: silent.RANK[r] for sid, r in reasons.items()},
                    value=Subscription.id, else_=len(silent.RANK))
        page = worklist.paginate(
            session,
            select(rank, Subscription.id, Subscription).where(Subscription.id.in_(list(reasons))),
            order=[worklist.asc(rank), worklist.asc(Subscription.id)],
            list_name=SILENT_LIST, cursor=cursor, limit=limit,
        )
        today = local_day(store.clock.now())

        def render(found: Any) -> dict[str, Any]:
            sub: Subscription = found[2]
            reason = reasons[sub.id]
            return worklist.item(
                kind="silent_subscription", subject_type="subscription", subject_id=sub.id,
                reason_code=reason.value, reason=silent.REASON_TEXTS[reason], today=today,
                partner_id=sub.partner_id, partner_kind=sub.partner_kind, channel=sub.channel,
                event_types=list(sub.event_types), url=sub.url,
                blocked_deliveries=int(blocked.get(sub.id, 0)),
            )

        return page.render(render)


# -- the citizen's access report ----------------------------------------------------------------


def access_report(uow: UnitOfWork, *, actor: Any, citizen_ref: Any) -> list[dict[str, Any]]:
    """Everything notifications did with the citizen's data (above all: what it passed
    on to partners, and on what basis), oldest first. Reading it is logged too."""
    require_role(actor, StaffRole.FRONTEN, StaffRole.OPERATOR)
    entries = access.entries_of_citizen(uow.session, uow.metadata, citizen_ref, SERVICE)
    access.record(uow, actor=actor, action=Action.READ, what="access_log",
                  purpose=getattr(actor, "purpose", None) or INSIGHT_PURPOSE,
                  citizen_ref=citizen_ref)
    uow.commit()
    return entries
