"""Alembic environment for the partners service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("partners")
