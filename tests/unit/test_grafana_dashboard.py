"""deploy/grafana/samspil.json charts only metrics the services expose: a renamed metric
fails here instead of leaving an empty panel in production."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.common import metrics
from services.notifications.metrics import notification_gauges

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "samspil.json"


def exposed() -> set[str]:
    """Every sample name the services can put on /metrics."""
    import datetime as dt

    from sqlalchemy import MetaData, create_engine

    from services.common.tables import add_kit_tables

    kit_tables = MetaData()
    add_kit_tables(kit_tables)
    engine = create_engine("sqlite://")
    kit_tables.create_all(engine)
    registry = CollectorRegistry()
    registry.register(metrics.kit_gauges("x", engine, kit_tables,
                                         lambda: dt.datetime.now(dt.UTC), lambda: 0))
    registry.register(notification_gauges(lambda: 0, lambda: {"sent": 1}))
    names = {s.name for f in text_string_to_metric_families(
        generate_latest(registry).decode()) for s in f.samples}
    for family in metrics.REGISTRY.collect():
        kind = family.type
        base = family.name
        if kind == "counter":
            names.add(base + "_total")
        elif kind == "histogram":
            names |= {base + "_bucket", base + "_count", base + "_sum"}
        else:
            names.add(base)
    return names


def test_every_panel_charts_an_exposed_metric():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    charted = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"samspil_[a-z_]+", target["expr"])}
    missing = charted - exposed()
    assert not missing, f"the dashboard charts metrics no service exposes: {missing}"
    # And every kit metric has a panel.
    kit = {f.name for f in metrics.REGISTRY.collect()}
    assert {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in charted} >= kit
