"""Two people edit the same plan over HTTP: the second, based on the version the first
already replaced, is refused with 409 and the current version's ETag, and nothing of the
first edit is lost (ETag / If-Match)."""

from __future__ import annotations

import uuid

import pytest

from services.gateway.auth import Role
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

GOALS = [{"text": "Komme op om morgenen", "voice": "citizen", "actions": [
    {"action_id": "a-1", "text": "Morgenopkald", "owner_id": "mette",
     "due_on": "2018-05-01"}]}]


def test_a_stale_plan_revision_is_a_409_with_the_current_etag(system: System) -> None:
    tovholder = system.token(Role.TOVHOLDER, "mette")
    citizen = str(uuid.uuid4())
    pathway = system.ok("POST", "/api/pathways", tovholder, status=201, json={
        "citizen_ref": citizen, "tovholder": {"member_id": "mette", "name": "Mette",
                                              "agency": "social_services", "role": "tovholder",
                                              "email": "mette@balk.dk"}})["pathway_id"]
    base = f"/api/pathways/{pathway}/plans"
    system.ok("POST", base, tovholder, status=201, json={"goals": GOALS})
    listed = system.call("GET", base, tovholder)
    assert listed.status_code == 200 and listed.headers["ETag"] == '"1"'

    first = [{**GOALS[0], "text": "Komme op og ud af døren"}]
    second = [{**GOALS[0], "text": "Gå en tur hver dag"}]
    ok = system.call("PUT", f"{base}/current", tovholder, json={"goals": first},
                     headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = system.call("PUT", f"{base}/current", tovholder, json={"goals": second},
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.headers["ETag"] == '"2"'
    assert stale.json()["errors"][0]["rule"] == "plan.version_conflict"
    current = system.ok("GET", f"{base}/2", tovholder)
    assert "Komme op og ud af døren" in str(current)  # the first edit is there
    bad = system.call("PUT", f"{base}/current", tovholder, json={"goals": second},
                      headers={"If-Match": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "If-Match"
