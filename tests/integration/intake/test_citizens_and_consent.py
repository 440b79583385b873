"""Citizens, consent, contact and the access log through the real broker and both
databases; the CPR number never appears in clear text in the database or on the wire."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import MetaData, select

from services.common.db import make_engine
from services.intake.models import metadata
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import partner_known

pytestmark = pytest.mark.integration

T0 = dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)
STAFF = {"kind": "staff", "id": "fronten-anne", "roles": ["fronten"]}
STAFF_LABEL = "staff:fronten-anne"  # what events and the access log say

ACCESS_LOG = metadata.tables["access_log"]  # the kit's access log (services.common.access)


def problems(err: pytest.ExceptionInfo[RemoteError]) -> dict[str, str]:
    return {e["field"]: e["rule"] for e in json.loads(err.value.value)["errors"]}


def every_stored_value(url: str) -> str:
    """The whole database as text, as a dump would show it."""
    engine = make_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        with engine.connect() as conn:
            return "\n".join(
                repr(tuple(row))
                for table in reflected.tables.values()
                for row in conn.execute(select(table)).all()
            )
    finally:
        engine.dispose()


def test_pathway_referral_carries_the_under_30_flag_and_no_cpr_anywhere(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, T0)
    intake.run()
    cprs = {"young": "290200-4321", "older": "150660-1237"}  # 29 Feb 2000; 15 Jun 1960
    with intake.rpc() as cluster:
        refs = {
            who: cluster.intake.register_citizen(
                actor=STAFF, cpr=cpr, name=f"Borger {who}", email=f"{who}@example.dk",
                phone=None, preferred_channel="email",
            )["citizen_ref"]
            for who, cpr in cprs.items()
        }
        inquiries = {}
        for who, ref in refs.items():
            inquiries[who] = cluster.intake.register_inquiry(
                actor=STAFF, channel="phone", inquirer_kind="relative",
                topics=["education", "loneliness"], wish="Han vil gerne i skole igen.",
                citizen_ref=ref,
            )["inquiry_id"]
            cluster.intake.resolve_inquiry(
                actor=STAFF, inquiry_id=inquiries[who], outcome="referral_pathway"
            )
        shown = cluster.intake.get_citizen(
            actor=STAFF, citizen_ref=refs["young"], purpose="borgerens ønske", show_cpr=True
        )
        assert shown["cpr"] == "290200-4321"
        assert shown["birth_date"] == "2000-02-29" and shown["under_30"] is True
        hidden = cluster.intake.get_citizen(
            actor=STAFF, citizen_ref=refs["older"], purpose="forberedelse"
        )
        assert hidden["cpr"] is None and hidden["under_30"] is False and hidden["age"] == 57

    for who, under_30 in (("young", True), ("older", False)):
        referral = tap.wait(
            "intake.pathway_referral", lambda e, who=who: e["payload"]["citizen_ref"] == refs[who]
        )
        assert referral["payload"] == {
            "inquiry_id": inquiries[who], "citizen_ref": refs[who],
            "topics": ["education", "loneliness"], "under_30": under_30,
            "referred_at": "2018-04-03T08:00:00+00:00", "referred_by": STAFF_LABEL,
        }
    dump = every_stored_value(intake.url)
    wire = json.dumps(tap.poll())
    for cpr in cprs.values():
        for written in (cpr, cpr.replace("-", "")):
            assert written not in dump
            assert written not in wire
    # Showing the CPR number is logged as its own read; the pathway as a disclosure.
    log = intake.rows(
        select(ACCESS_LOG.c.action, ACCESS_LOG.c.what, ACCESS_LOG.c.purpose)
        .where(ACCESS_LOG.c.citizen_ref == uuid.UUID(refs["young"]))
        .order_by(ACCESS_LOG.c.id)
    )
    assert [tuple(r) for r in log] == [
        ("change", "citizen", "registrering af borger"),
        ("change", "inquiry", "henvendelse til Fronten"),
        ("disclosure", "pathway_referral", "henvisning til sammenhængende borgerforløb"),
        ("change", "inquiry", "henvendelse til Fronten"),
        ("read", "citizen", "borgerens ønske"),
        ("read", "cpr", "borgerens ønske"),
    ]


def test_consent_contact_matching_and_the_access_log(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, T0)
    intake.run()
    with intake.rpc() as cluster:
        ref = cluster.intake.register_citizen(
            actor=STAFF, cpr="010203-4562", name="Mikkel  Hansen", email="mikkel@example.dk",
            phone=None, preferred_channel="email",
        )["citizen_ref"]
        # Same name and birth date, another CPR number: a name search is now ambiguous.
        twin = cluster.intake.register_citizen(
            actor=STAFF, cpr="0102034571", name="Mikkel Hansen", email=None,
            phone="+4520304050", preferred_channel="sms",
        )["citizen_ref"]
        with pytest.raises(RemoteError) as err:
            cluster.intake.register_citizen(
                actor=STAFF, cpr="0102034562", name="Igen", email=None, phone=None,
                preferred_channel="letter",
            )
        assert problems(err) == {"cpr": "citizen.already_registered"}

        # The recipient is a partner from the directory (partners.partner_registered).
        partner_known(intake, "jobcenter-ballerup", name="Jobcenter Ballerup")
        consent = cluster.intake.give_consent(
            actor=STAFF, citizen_ref=ref, recipient="jobcenter-ballerup",
            information_kinds=["bridging_status", "meeting_schedule"],
            purpose="bridging_employment", form="written",
        )
        assert (consent["recipient_name"], consent["purpose_text"]) == (
            "Jobcenter Ballerup", "brobygning til beskæftigelse")
        intake.clock.set(T0 + dt.timedelta(days=30))
        withdrawn = cluster.intake.withdraw_consent(actor=STAFF, consent_id=consent["consent_id"])
        assert withdrawn["withdrawn_at"] == "2018-05-03T08:00:00+00:00"
        before = intake.counts()
        with pytest.raises(RemoteError) as err:
            cluster.intake.withdraw_consent(actor=STAFF, consent_id=consent["consent_id"])
        assert err.value.exc_type == "InvalidInput"
        assert problems(err) == {"consent": "consent.already_withdrawn"}
        assert intake.counts() == before
        listed = cluster.intake.list_consents(actor=STAFF, citizen_ref=ref, purpose="gennemgang")
        assert [c["consent_id"] for c in listed] == [consent["consent_id"]]

        contact = cluster.intake.get_contact(
            actor="service:notifications", citizen_ref=ref, purpose="mødeindkaldelse"
        )
        assert contact == {
            "citizen_ref": ref, "name": "Mikkel Hansen", "email": "mikkel@example.dk",
            "phone": None, "address": None, "preferred_channel": "email",
        }
        with pytest.raises(RemoteError) as err:
            cluster.intake.get_contact(
                actor="service:notifications",
                citizen_ref="00000000-0000-4000-8000-000000000000", purpose="x",
            )
        assert err.value.exc_type == "NotFoundError"
        updated = cluster.intake.update_contact(
            actor=STAFF, citizen_ref=ref, phone="+45 11 22 33 44", preferred_channel="sms"
        )
        assert (updated["email"], updated["phone"], updated["preferred_channel"]) == (
            "mikkel@example.dk", "+45 11 22 33 44", "sms"
        )
        with pytest.raises(RemoteError) as err:
            cluster.intake.update_contact(actor=STAFF, citizen_ref=ref, phone=None)
        assert problems(err) == {"phone": "contact.phone_missing"}
        # The address, for home meetings: free text, spaces tidied; null clears it.
        cluster.intake.update_contact(
            actor=STAFF, citizen_ref=ref, address=" Hedelyngen 12,  st. tv., 2750 Ballerup "
        )
        home = cluster.intake.get_contact(
            actor="service:notifications", citizen_ref=ref, purpose="mødeindkaldelse"
        )
        assert home["address"] == "Hedelyngen 12, st. tv., 2750 Ballerup"
        for blank, rule in (("   ", "contact.address_blank"), ("", "schema")):
            with pytest.raises(RemoteError) as err:
                cluster.intake.update_contact(actor=STAFF, citizen_ref=ref, address=blank)
            assert problems(err) == {"address": rule}
        cleared = cluster.intake.update_contact(actor=STAFF, citizen_ref=ref, address=None)
        assert cleared["address"] is None and cleared["phone"] == "+45 11 22 33 44"

        def match(**criterion):
            return cluster.intake.match_citizen(
                actor="service:housing", purpose="lejer med huslejerestance", **criterion
            )["citizen_ref"]

        assert match(cpr="010203-4562") == ref
        assert match(cpr="0102034571", name="Forkert Navn") == twin  # the CPR number wins
        assert match(cpr="010203-9999") is None
        assert match(name="mikkel hansen", birth_date="2003-02-01") is None  # two of them
        cluster.intake.update_contact(actor=STAFF, citizen_ref=twin, name="Mikkel B. Hansen")
        assert match(name=" MIKKEL   hansen ", birth_date="2003-02-01") == ref
        assert match(name="Mikkel Hansen", birth_date="2003-02-02") is None
        with pytest.raises(RemoteError) as err:
            match(name="Mikkel Hansen")
        assert problems(err) == {"cpr": "match.criterion_missing"}

        lookups = cluster.intake.lookups_of_citizen(
            actor=STAFF, citizen_ref=ref, purpose="borgerens anmodning om indsigt"
        )
    assert [(e["action"], e["what"], e["purpose"]) for e in lookups] == [
        ("change", "citizen", "registrering af borger"),
        ("change", "consent", "registrering af samtykke"),
        ("change", "consent", "tilbagekaldelse af samtykke"),
        ("read", "consent", "gennemgang"),
        ("read", "contact", "mødeindkaldelse"),
        ("change", "contact", "ændring af navn eller kontaktoplysninger"),
        ("change", "contact", "ændring af navn eller kontaktoplysninger"),
        ("read", "contact", "mødeindkaldelse"),
        ("change", "contact", "ændring af navn eller kontaktoplysninger"),
        ("search", "citizen", "lejer med huslejerestance"),
        ("search", "citizen", "lejer med huslejerestance"),
    ]
    assert lookups[0]["at"] == "2018-04-03T08:00:00+00:00"
    assert lookups[-1]["at"] == "2018-05-03T08:00:00+00:00"
    criteria = [
        r.criterion for r in intake.rows(
            select(ACCESS_LOG.c.criterion).where(ACCESS_LOG.c.action == "search")
        )
    ]
    assert criteria.count("cpr: exact match on the lookup hash") == 3
    assert "name and birth date: mikkel hansen, 2003-02-01" in criteria
    assert not any("0102" in c for c in criteria)

    given = tap.wait("intake.consent_given")
    assert given["payload"] == {
        "consent_id": consent["consent_id"], "citizen_ref": ref,
        "recipient": "jobcenter-ballerup",
        "information_kinds": ["bridging_status", "meeting_schedule"],
        "purpose": "bridging_employment", "given_at": "2018-04-03T08:00:00+00:00",
    }
    gone = tap.wait("intake.consent_withdrawn")
    assert gone["payload"] == {
        "consent_id": consent["consent_id"], "citizen_ref": ref,
        "recipient": "jobcenter-ballerup", "withdrawn_at": "2018-05-03T08:00:00+00:00",
    }
    assert len(tap.of_type("intake.consent_withdrawn")) == 1
