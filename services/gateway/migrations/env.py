"""Alembic environment for the gateway service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("gateway")
