"""Alembic environment for the intake service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("intake")
