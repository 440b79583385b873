"""notifications: delivery to people and partners. Thin nameko entrypoints only.

Events are planned into the delivery ledger by inbox handlers (one transaction with
the inbox row); a timer sweep sends what is due, outside any transaction, and records
each outcome. Operators manage routing rules, partner subscriptions and legal bases,
list and retry deliveries and see the subscriptions that deliver nothing, over RPC;
the health port serves `/metrics` (samspil_silent_subscriptions) beside /health.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import eventlet
from nameko.exceptions import RemoteError
from nameko.timer import Timer

from contracts.notifications import (
    AccessReportArgs,
    AddLegalBasisArgs,
    AddRoutingRuleArgs,
    AddSubscriptionArgs,
    ListDeliveriesArgs,
    ListLegalBasesArgs,
    ListRoutingRulesArgs,
    ListSubscriptionsArgs,
    RemoveRoutingRuleArgs,
    RemoveSubscriptionArgs,
    RetirePreviousSecretArgs,
    RetryDeliveryArgs,
    RotateSubscriptionSecretArgs,
    SilentSubscriptionsArgs,
)
from services.common.clock import Clock
from services.common.db import Database
from services.common.messaging import consumes
from services.common.rpc import RpcProxy, rpc, validated
from services.notifications import delivery, messages, operators
from services.notifications.channels import Channels
from services.notifications.metrics import HealthAndMetrics
from services.notifications.models import metadata


class SweepTimer(Timer):
    """A @timer whose interval is the config's DELIVERY_SWEEP_SECONDS (default 1 s)."""

    def setup(self) -> None:
        self.interval = float(self.container.config.get("DELIVERY_SWEEP_SECONDS") or 1.0)


class IntakeUnavailable(ConnectionError):
    """intake did not answer or failed: temporary, the delivery is retried."""


class CoordinationUnavailable(ConnectionError):
    """coordination did not answer or failed: temporary, the delivery is retried."""


class PartnersUnavailable(ConnectionError):
    """partners did not answer or failed: temporary, the delivery is retried."""


class Contacts:
    """intake.get_contact at send time, with a deadline (nameko's proxy has none)."""

    def __init__(self, proxy: Any, timeout: float) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def __call__(self, citizen_ref: str, purpose: str) -> dict[str, Any]:
        try:
            with eventlet.Timeout(self.timeout, IntakeUnavailable("intake did not answer")):
                return dict(
                    self.proxy.get_contact(
                        actor=delivery.ACTOR, citizen_ref=citizen_ref, purpose=purpose
                    )
                )
        except RemoteError as exc:
            if exc.exc_type == "NotFoundError":
                raise delivery.RecipientUnknown("intake does not know the citizen") from None
            if exc.exc_type == "InvalidInput":
                raise ValueError(f"intake refused the lookup: {exc.value}") from None
            raise IntakeUnavailable(f"intake failed: {exc.exc_type}") from None


class Participants:
    """coordination.get_participant_contact at send time, with a deadline: a network
    person's address, given only if the citizen agreed that the person is contacted."""

    def __init__(self, proxy: Any, timeout: float) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def __call__(self, pathway_id: str, participant_id: str, purpose: str) -> dict[str, Any]:
        try:
            with eventlet.Timeout(self.timeout,
                                  CoordinationUnavailable("coordination did not answer")):
                return dict(
                    self.proxy.get_participant_contact(
                        actor=delivery.ACTOR, pathway_id=pathway_id,
                        participant_id=participant_id, purpose=purpose,
                    )
                )
        except RemoteError as exc:
            if exc.exc_type == "NotFoundError":
                raise delivery.RecipientUnknown(
                    "coordination gives no contact for the network person (unknown, or the "
                    "citizen has not agreed that the person is contacted)"
                ) from None
            if exc.exc_type == "InvalidInput":
                raise ValueError(f"coordination refused the lookup: {exc.value}") from None
            raise CoordinationUnavailable(f"coordination failed: {exc.exc_type}") from None


class Directory:
    """partners.get_partner at send time, with a deadline: the directory's contact of a
    partner that has no subscription (a hand-off then goes by e-mail)."""

    def __init__(self, proxy: Any, timeout: float) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def __call__(self, partner_id: str) -> dict[str, Any]:
        try:
            with eventlet.Timeout(self.timeout, PartnersUnavailable("partners did not answer")):
                return dict(self.proxy.get_partner(actor=delivery.ACTOR, partner_id=partner_id))
        except RemoteError as exc:
            if exc.exc_type == "NotFoundError":
                raise delivery.RecipientUnknown(
                    "the partner is not in the partner directory") from None
            if exc.exc_type == "InvalidInput":
                raise ValueError(f"partners refused the lookup: {exc.value}") from None
            raise PartnersUnavailable(f"partners failed: {exc.exc_type}") from None


@consumes(messages.EVENT_HANDLERS, context_attr="channels")
class NotificationsService:
    name = "notifications"

    db = Database(metadata)
    clock = Clock()
    channels = Channels()
    intake = RpcProxy("intake")
    coordination = RpcProxy("coordination")
    partners = RpcProxy("partners")
    health = HealthAndMetrics()

    # -- sending ---------------------------------------------------------------------

    @SweepTimer.decorator(interval=1.0, eager=True)
    def deliver_due(self) -> int:
        transports = self.channels
        return delivery.deliver_due(
            self.db,
            now=self.clock.now,
            senders=transports,
            contacts=Contacts(self.intake, transports.contact_timeout),
            participants=Participants(self.coordination, transports.contact_timeout),
            directory=Directory(self.partners, transports.contact_timeout),
            policy=transports.policy,
            rng=transports.rng,
            lease=transports.lease,
            fronten_email=transports.fronten_email,
            api_base_url=transports.api_base_url,
            each=eventlet.GreenPool(transports.concurrency).imap,
        )

    # -- operators ---------------------------------------------------------------------

    @rpc
    @validated(ListRoutingRulesArgs)
    def list_routing_rules(self, actor: str, event_type: str | None) -> list[dict[str, Any]]:
        return operators.list_routing_rules(self.db, event_type)

    @rpc
    @validated(AddRoutingRuleArgs)
    def add_routing_rule(self, actor: str, **args: str) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.add_routing_rule(uow, actor=actor, **args)

    @rpc
    @validated(RemoveRoutingRuleArgs)
    def remove_routing_rule(self, actor: str, rule_id: int) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.remove_routing_rule(uow, rule_id=rule_id)

    @rpc
    @validated(ListSubscriptionsArgs)
    def list_subscriptions(self, actor: str, partner_id: str | None) -> list[dict[str, Any]]:
        return operators.list_subscriptions(self.db, partner_id)

    @rpc
    @validated(AddSubscriptionArgs)
    def add_subscription(self, actor: str, **args: Any) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.add_subscription(
                uow, actor=actor, allow_loopback=self.channels.allow_loopback,
                queues=self.channels.queues, box=self.channels.secrets, **args,
            )

    @rpc
    @validated(RotateSubscriptionSecretArgs)
    def rotate_subscription_secret(self, actor: str, subscription_id: int, secret: str | None,
                                   overlap_hours: int | None) -> dict[str, Any]:
        overlap = self.channels.secret_overlap if overlap_hours is None \
            else dt.timedelta(hours=overlap_hours)
        with self.db.unit_of_work() as uow:
            return operators.rotate_subscription_secret(
                uow, actor=actor, subscription_id=subscription_id, secret=secret,
                overlap=overlap, box=self.channels.secrets,
            )

    @rpc
    @validated(RetirePreviousSecretArgs)
    def retire_previous_secret(self, actor: str, subscription_id: int) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.retire_previous_secret(
                uow, actor=actor, subscription_id=subscription_id)

    @rpc
    @validated(RemoveSubscriptionArgs)
    def remove_subscription(self, actor: str, subscription_id: int) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.remove_subscription(uow, subscription_id=subscription_id)

    @rpc
    @validated(ListLegalBasesArgs)
    def list_legal_bases(self, actor: str) -> list[dict[str, Any]]:
        return operators.list_legal_bases(self.db)

    @rpc
    @validated(AddLegalBasisArgs)
    def add_legal_basis(self, actor: str, **args: str) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.add_legal_basis(uow, actor=actor, **args)

    @rpc
    @validated(ListDeliveriesArgs)
    def list_deliveries(self, actor: str, limit: int, **filters: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return operators.list_deliveries(uow, actor=actor, limit=limit, **filters)

    @rpc
    @validated(RetryDeliveryArgs)
    def retry_delivery(self, actor: str, delivery_id: int) -> dict[str, Any]:
        with self.db.unit_of_work() as uow:
            return operators.retry_delivery(uow, delivery_id=delivery_id)

    @rpc
    @validated(SilentSubscriptionsArgs)
    def silent_subscriptions(self, actor: str, cursor: str | None,
                             limit: int) -> dict[str, Any]:
        return operators.silent_subscriptions(self.db, actor=actor, cursor=cursor, limit=limit)

    # -- the citizen's request for insight ------------------------------------------------

    @rpc
    @validated(AccessReportArgs)
    def access_report(self, actor: str, citizen_ref: Any) -> list[dict[str, Any]]:
        with self.db.unit_of_work() as uow:
            return operators.access_report(uow, actor=actor, citizen_ref=citizen_ref)
