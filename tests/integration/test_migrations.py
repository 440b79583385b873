"""Each service's Alembic history builds exactly the tables its models declare, on
SQLite and PostgreSQL: a model change without a migration (or the reverse) fails here,
before it fails a deployment."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.db import make_engine
from services.common.migrate import metadata_of, upgrade
from services.common.tables import add_kit_tables

pytestmark = pytest.mark.integration

SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_at_head_match_the_models(service: str, db_url: str) -> None:
    upgrade(service, db_url)
    metadata = metadata_of(service)
    add_kit_tables(metadata)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"render_as_batch": True})
            diff: list[Any] = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"
