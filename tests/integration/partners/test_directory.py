"""The directory through the real broker, on SQLite and PostgreSQL: operators add,
change and deactivate partners, each change is `partners.partner_registered`; staff
read and page through it; bad input names the field and writes nothing; the seeded
Social Vejledning is there from the start, and announced."""

from __future__ import annotations

import pytest
from nameko.exceptions import RemoteError

from tests.integration.partners.conftest import FRONTEN, OPERATOR, partner, problems

pytestmark = pytest.mark.integration


def test_a_fresh_system_has_social_vejledning_and_says_so(partners_service):
    sv = partners_service.rpc("get_partner", actor=FRONTEN, partner_id="social-vejledning")
    assert (sv["name"], sv["category"], sv["accepts"], sv["active"]) == (
        "Social Vejledning", "social_vejledning", ["referral_85"], True)
    assert sv["accepts_text"] == ["Henvisning til vurdering efter servicelovens § 85"]
    announced = partners_service.observer.wait("partners.partner_registered",
                                               partner_id="social-vejledning")
    assert announced[0]["accepts"] == ["referral_85"] and announced[0]["active"] is True


def test_operators_keep_the_directory_and_every_change_is_announced(partners_service):
    svc = partners_service
    made = svc.register("jobcenter-ballerup", "employment", ["bridging_employment"],
                        name="Jobcenter Ballerup", contact_phone="44 77 20 00",
                        description="Brobygning til beskæftigelse.")
    assert made["category_text"] == "Beskæftigelse (jobcenter)"
    assert made["changed_by"] == "staff:drift-ole"
    first = svc.observer.wait("partners.partner_registered", partner_id="jobcenter-ballerup")
    assert first[0] == {"partner_id": "jobcenter-ballerup", "name": "Jobcenter Ballerup",
                        "category": "employment", "accepts": ["bridging_employment"],
                        "active": True, "changed_at": "2025-03-05T09:00:00+00:00"}

    changed = svc.rpc("update_partner", actor=OPERATOR, partner_id="jobcenter-ballerup",
                      accepts=["bridging_employment", "offer_referral"],
                      contact_phone="44 77 20 01")
    assert changed["accepts"] == ["bridging_employment", "offer_referral"]
    assert changed["contact_phone"] == "44 77 20 01"
    assert changed["name"] == "Jobcenter Ballerup"  # untouched: partial
    svc.observer.wait("partners.partner_registered", 2, partner_id="jobcenter-ballerup")

    gone = svc.rpc("deactivate_partner", actor=OPERATOR, partner_id="jobcenter-ballerup")
    assert gone["active"] is False
    last = svc.observer.wait("partners.partner_registered", 3,
                             partner_id="jobcenter-ballerup")[-1]
    assert last["active"] is False
    back = svc.rpc("update_partner", actor=OPERATOR, partner_id="jobcenter-ballerup",
                   active=True)
    assert back["active"] is True

    # Only operators write; a partner reads only its own entry.
    with pytest.raises(RemoteError) as err:
        svc.rpc("update_partner", actor=FRONTEN, partner_id="jobcenter-ballerup", name="X")
    assert problems(err) == [{"field": "actor", "rule": "not_allowed",
                              "message": "Only operators keep the directory of partners."}]
    own = svc.rpc("get_partner", actor=partner("jobcenter-ballerup"),
                  partner_id="jobcenter-ballerup")
    assert own["partner_id"] == "jobcenter-ballerup"
    with pytest.raises(RemoteError) as other:
        svc.rpc("get_partner", actor=partner("uu-ballerup"), partner_id="jobcenter-ballerup")
    with pytest.raises(RemoteError) as missing:
        svc.rpc("get_partner", actor=FRONTEN, partner_id="findes-ikke")
    assert other.value.exc_type == missing.value.exc_type == "NotFoundError"
    assert other.value.value == missing.value.value


def test_bad_entries_name_the_field_and_write_nothing(partners_service):
    svc = partners_service
    before = (svc.count("partners"), svc.count("outbox"))
    with pytest.raises(RemoteError) as err:
        svc.rpc("register_partner", actor=OPERATOR, partner_id="Jobcenter Ballerup",
                name="", category="bank", accepts=["everything"], contact_name="A",
                contact_email="no-address")
    assert {e["field"] for e in problems(err)} == {"partner_id", "name", "category",
                                                   "accepts.0", "contact_email"}
    with pytest.raises(RemoteError) as err:
        svc.register("jobcenter-ballerup", "employment", ["referral_85"])
    assert problems(err)[0]["rule"] == "partner.kind_not_for_category"
    with pytest.raises(RemoteError) as err:
        svc.register("uu-ballerup", "education", ["bridging_education"], contact_email=None)
    assert problems(err)[0] == {"field": "contact_email", "rule": "partner.contact_missing",
                                "message": "Give the contact's e-mail address or phone number."}
    with pytest.raises(RemoteError) as err:
        svc.register("social-vejledning", "social_vejledning", ["referral_85"])
    assert problems(err)[0]["rule"] == "partner.exists"
    with pytest.raises(RemoteError) as err:
        svc.rpc("update_partner", actor=OPERATOR, partner_id="social-vejledning",
                accepts=["hold_termination"])
    assert problems(err)[0]["field"] == "accepts"
    with pytest.raises(RemoteError) as err:
        svc.rpc("register_partner", actor=OPERATOR, partner_id="x1", name="X",
                category="volunteer", accepts=[], contact_name="A",
                description="Ring på 010190-1234")  # a CPR number in free text
    assert problems(err)[0]["rule"] == "cpr_in_text"
    assert (svc.count("partners"), svc.count("outbox")) == before


def test_staff_page_through_the_directory_with_its_filters(partners_service):
    svc = partners_service
    for pid, category, accepts in [
        ("ungdomsklubben", "volunteer", ["offer_referral"]),
        ("aftenskolen", "offer", ["offer_referral"]),
        ("uu-ballerup", "education", ["bridging_education"]),
        ("psykiatrien", "health", ["bridging_health", "offer_referral"]),
        ("bf-ballerup", "housing", ["hold_termination"]),
    ]:
        svc.register(pid, category, accepts)
    svc.rpc("deactivate_partner", actor=OPERATOR, partner_id="aftenskolen")

    seen, cursor = [], None
    while True:
        page = svc.rpc("list_partners", actor={**FRONTEN, "roles": ["tovholder"]},
                       cursor=cursor, limit=2)
        seen += [p["partner_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # By name (Title-cased ids here), every partner exactly once, the seeded one too.
    assert seen == ["aftenskolen", "bf-ballerup", "psykiatrien", "social-vejledning",
                    "ungdomsklubben", "uu-ballerup"]

    offers = svc.rpc("list_partners", actor=FRONTEN, accepts="offer_referral", active=True)
    assert [p["partner_id"] for p in offers["items"]] == ["psykiatrien", "ungdomsklubben"]
    housing = svc.rpc("list_partners", actor=FRONTEN, category="housing")
    assert [p["partner_id"] for p in housing["items"]] == ["bf-ballerup"]

    with pytest.raises(RemoteError) as err:
        svc.rpc("list_partners", actor=FRONTEN, cursor="not-a-cursor")
    assert problems(err)[0]["field"] == "cursor"
    with pytest.raises(RemoteError) as err:
        svc.rpc("list_partners", actor=partner("bf-ballerup"))
    assert problems(err)[0]["rule"] == "not_allowed"
