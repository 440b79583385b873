"""Alembic environment for the housing service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("housing")
