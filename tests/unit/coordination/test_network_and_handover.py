"""Network persons with consent to be contacted, and the handover note."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.vocabulary import Agency
from services.common.errors import DomainError
from services.coordination.pathways import NetworkPerson, Pathway, TeamMember

OPENED = dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.UTC)
METTE = TeamMember("m-social", "Mette", Agency.SOCIAL_SERVICES, "socialrådgiver",
                   dt.date(2021, 3, 1))
ULLA = TeamMember("m-upoint", "Ulla", Agency.UPOINT, "ungekonsulent", dt.date(2021, 3, 1))


def pathway() -> Pathway:
    p = Pathway.open("p-1", "c-vincent", OPENED, tovholder=METTE)
    p.add_member(ULLA, OPENED)
    p.events.clear()
    return p


def test_consent_to_contact_needs_an_address_or_a_number():
    p = pathway()
    with pytest.raises(DomainError) as error:
        p.add_network_person(NetworkPerson("n-1", "Hanne", "mor", may_contact=True), OPENED)
    assert (error.value.field, error.value.rule) == ("may_contact", "network.contact_missing")
    assert p.network == {}


@pytest.mark.parametrize("contact", [{"email": "hanne@example.dk"}, {"phone": "+45 20304050"}])
def test_a_network_person_with_consent_and_a_way_to_reach_them(contact):
    p = pathway()
    p.add_network_person(NetworkPerson("n-1", "Hanne", "mor", may_contact=True, **contact),
                         OPENED)
    assert p.network["n-1"].may_contact


def test_without_consent_details_may_be_kept_but_are_not_for_contacting():
    p = pathway()
    p.add_network_person(NetworkPerson("n-1", "Hanne", "mor", email="hanne@example.dk"), OPENED)
    assert not p.network["n-1"].may_contact


def test_the_handover_note_travels_with_the_handover_and_stays_on_the_ended_term():
    p = pathway()
    event = p.hand_over_tovholder("m-upoint", "Mette går på barsel", OPENED + dt.timedelta(days=1),
                                  note="  Vincent svarer bedst på sms.  ")
    assert event.note == "Vincent svarer bedst på sms."
    assert p.tovholder_terms[0].handover_note == "Vincent svarer bedst på sms."
    assert p.tovholder_terms[1].handover_note is None


def test_an_empty_handover_note_is_no_note():
    p = pathway()
    event = p.hand_over_tovholder("m-upoint", "barsel", OPENED + dt.timedelta(days=1), note="  ")
    assert event.note is None
