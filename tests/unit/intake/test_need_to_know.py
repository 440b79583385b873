"""Need-to-know's rules in intake (services.intake.need_to_know), pure: who sees how
much of a citizen, which course, and which actions a role never allows."""

from __future__ import annotations

import pytest

from contracts.actor import Actor, StaffRole
from contracts.vocabulary import Agency
from services.common.errors import DomainError
from services.intake.need_to_know import (
    ACCESS_REPORT_ROLES,
    CitizenFacts,
    CitizenScope,
    CourseFacts,
    as_actor,
    citizen_scope,
    course_visible,
    first_name,
    may_see_cpr,
    require_fronten,
    require_role,
)

S = CitizenScope
A = Agency


def staff(*roles: str) -> Actor:
    return Actor("staff", "someone", roles=roles)


FRONTEN = staff("fronten")
SV = staff("social_vejledning")
PANEL = staff("review_panel")
TOVHOLDER = staff("tovholder")
SERVICE = Actor.from_label("service:notifications")
PARTNER = Actor("partner", "jobcenter-ballerup", roles=["partner"],
                partner_id="jobcenter-ballerup")


@pytest.mark.parametrize(("actor", "facts", "scope"), [
    (FRONTEN, CitizenFacts(), S.FULL),
    (SERVICE, CitizenFacts(), S.FULL),
    (SV, CitizenFacts(), S.NONE),
    (SV, CitizenFacts(referred_85=True), S.FULL),
    (PANEL, CitizenFacts(), S.NONE),
    (PANEL, CitizenFacts(on_agenda=True), S.NAME),
    (TOVHOLDER, CitizenFacts(), S.NONE),
    # Membership grants, whatever the role.
    (staff("housing_officer"), CitizenFacts(tovholder=True), S.NAME_AND_CONTACT),
    (staff("housing_officer"), CitizenFacts(), S.NONE),
    (staff("operator"), CitizenFacts(referred_85=True, on_agenda=True), S.NONE),
    (TOVHOLDER, CitizenFacts(tovholder=True), S.NAME_AND_CONTACT),
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.SOCIAL_SERVICES})), S.NAME),
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.JOBCENTER})), S.FIRST_NAME),
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.JOBCENTER}),
                             consents={A.JOBCENTER: frozenset({"meeting_schedule"})}), S.NAME),
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.JOBCENTER}),
                             consents={A.JOBCENTER: frozenset({"contact_status"})}),
     S.NAME_AND_CONTACT),
    # Consent to another agency does not count for this one.
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.UPOINT}),
                             consents={A.JOBCENTER: frozenset({"contact_status"})}),
     S.FIRST_NAME),
    (TOVHOLDER, CitizenFacts(member_agencies=frozenset({A.SOCIAL_SERVICES}),
                             consents={A.SOCIAL_SERVICES: frozenset({"contact_status"})}),
     S.NAME_AND_CONTACT),
    # The widest grant counts.
    (staff("review_panel", "tovholder"),
     CitizenFacts(on_agenda=True, member_agencies=frozenset({A.JOBCENTER})), S.NAME),
    # Partners see no citizen data in intake, whatever the facts say.
    (PARTNER, CitizenFacts(tovholder=True, referred_85=True), S.NONE),
])
def test_how_much_of_a_citizen_each_caller_sees(actor, facts, scope) -> None:
    assert citizen_scope(actor, facts) is scope


def test_the_cpr_number_is_for_fronten_social_vejledning_on_a_referral_and_services() -> None:
    assert may_see_cpr(FRONTEN, CitizenFacts())
    assert may_see_cpr(SERVICE, CitizenFacts())
    assert may_see_cpr(SV, CitizenFacts(referred_85=True))
    assert not may_see_cpr(SV, CitizenFacts())
    assert not may_see_cpr(TOVHOLDER, CitizenFacts(tovholder=True))
    assert not may_see_cpr(PANEL, CitizenFacts(on_agenda=True))
    assert not may_see_cpr(PARTNER, CitizenFacts(referred_85=True))


@pytest.mark.parametrize(("actor", "facts", "visible"), [
    (FRONTEN, CourseFacts(), True),
    (SERVICE, CourseFacts(), True),
    (SV, CourseFacts(), False),
    (SV, CourseFacts(referred_85=True), True),
    (PANEL, CourseFacts(), False),
    (PANEL, CourseFacts(on_agenda=True), True),
    (PANEL, CourseFacts(referred_85=True), False),
    (TOVHOLDER, CourseFacts(referred_85=True, on_agenda=True), False),
    (PARTNER, CourseFacts(referred_85=True, on_agenda=True), False),
])
def test_which_course_each_caller_sees(actor, facts, visible) -> None:
    assert course_visible(actor, facts) is visible


def test_a_role_gate_names_the_actor_and_never_a_record() -> None:
    require_fronten(FRONTEN)
    require_fronten(SERVICE)
    for actor in (TOVHOLDER, PARTNER, staff(), as_actor("staff:fronten-anne")):
        with pytest.raises(DomainError) as err:
            require_fronten(actor)
        assert (err.value.field, err.value.rule) == ("actor", "not_allowed")
    require_role(staff("operator"), ACCESS_REPORT_ROLES, "access_report")
    with pytest.raises(DomainError):  # a partner, even with the role asked for
        require_role(PARTNER, (StaffRole.PARTNER,), "access_report")


def test_labels_and_names() -> None:
    assert as_actor("service:housing").kind.value == "service"
    assert as_actor("staff:anne").roles == frozenset()
    assert as_actor(FRONTEN) is FRONTEN
    assert first_name("  Mikkel   B. Hansen ") == "Mikkel"
