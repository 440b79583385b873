"""Alembic environment for the notifications service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("notifications")
