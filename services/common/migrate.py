"""Alembic, one history per service, without an alembic.ini.

`upgrade("intake", url)` migrates intake's database to head. Each service's
`migrations/env.py` is two lines that call `run_env` with the service name.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool

from services.common.db import make_engine


def alembic_config(service: str, url: str) -> Config:
    package = importlib.import_module(f"services.{service}")
    assert package.__file__ is not None
    config = Config()
    config.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def metadata_of(service: str) -> MetaData:
    models = importlib.import_module(f"services.{service}.models")
    return models.metadata


def run_env(service: str) -> None:
    """The body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    target = metadata_of(service)
    opts = {"target_metadata": target, "render_as_batch": True,
            "user_module_prefix": "services.common.types."}
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **opts)  # type: ignore[arg-type]
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **opts)  # type: ignore[arg-type]
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


class NotMigrated(RuntimeError):
    """The service's database is not at the newest schema."""


def check_at_head(service: str, url: str) -> None:
    """Refuse to start on a database that is not migrated to head (a clear message
    instead of SQL errors from the first query)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        config = alembic_config(service, url)
    except ModuleNotFoundError:
        return  # not a Samspil service package (e.g. a test-only service)
    script_dir = Path(config.get_main_option("script_location") or "")
    if not (script_dir / "env.py").exists():
        return
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        from services.common.logs import redact_url

        raise NotMigrated(
            f"the {service} database ({redact_url(url)}) is at revision {current or 'none'}, "
            f"not {head}: run `samspil migrate {service}` with the same --config first "
            "(or start with --migrate)"
        )
