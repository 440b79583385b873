"""Samspil's wire contracts: the envelope, the registry and every service's messages.

Importing this package registers every contract, so `contracts.registry` is complete.
"""

from contracts import coordination as coordination  # registers its contracts
from contracts import housing as housing
from contracts import intake as intake
from contracts import notifications as notifications
from contracts import partners as partners
from contracts.envelope import Envelope, InvalidMessage, parse_envelope
from contracts.registry import registry

__all__ = ["Envelope", "InvalidMessage", "parse_envelope", "registry"]
