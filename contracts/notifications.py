"""Contracts of the notifications service: its RPC arguments and partner-facing messages."""

from __future__ import annotations
