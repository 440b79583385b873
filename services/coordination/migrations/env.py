"""Alembic environment for the coordination service (see services.common.migrate)."""

from services.common.migrate import run_env

run_env("coordination")
