"""Need-to-know on a pathway, as pure rules: who sees a pathway, what each sees of it,
and who may change it."""

from __future__ import annotations

import pytest

from contracts.actor import StaffRole
from contracts.vocabulary import INFORMATION_KINDS
from services.common.errors import DomainError
from services.coordination import needtoknow
from services.coordination.needtoknow import Change, Standing, sight_of


def sight(actor_id: str = "m-x", *, kind: str = "staff", roles=(), tovholder: str | None = "m-t",
          closed: bool = False, agency: str | None = None, consent=None):
    return sight_of(kind=kind, actor_id=actor_id, roles=frozenset(roles),
                    tovholder_id=tovholder, closed=closed, member_agency=agency,
                    consent_kinds=None if consent is None else frozenset(consent))


def test_the_tovholder_sees_everything_and_may_change_everything():
    seen = sight("m-t", agency="upoint", consent=())
    assert seen is not None and seen.standing is Standing.TOVHOLDER and seen.full
    assert all(needtoknow.may_change(seen, change) for change in Change)
    assert seen.withheld() == []


def test_a_social_services_member_sees_everything_without_consent_but_changes_nothing():
    seen = sight(agency="social_services")
    assert seen is not None and seen.standing is Standing.MEMBER and seen.full
    assert not needtoknow.may_change(seen, Change.PLAN)
    assert needtoknow.may_change(seen, Change.ACTION_STATUS, owns_action=True)
    assert not needtoknow.may_change(seen, Change.ACTION_STATUS, owns_action=False)


def test_another_agency_sees_only_what_the_consent_covers():
    seen = sight(agency="school", consent=["meeting_schedule"])
    assert seen is not None and not seen.restricted and not seen.full
    assert seen.sees(None)  # the team itself
    assert seen.sees_section("meetings") and seen.sees_section("preferences")
    assert not seen.sees_section("plan") and not seen.sees_section("network")
    assert seen.withheld() == ["network", "plan", "offer_referrals"]
    assert seen.sees_entry("member_added") and seen.sees_entry("meeting_held")
    assert not seen.sees_entry("plan_agreed")
    assert not seen.sees_entry("housing_case_escalated")
    assert not seen.sees_entry("course_ended")
    # Hand-off entries by the hand-off's kind; an unmapped entry only with full sight.
    assert not seen.sees_entry("handoff_updated", "bridging_education")
    assert not seen.sees_entry("something_new")
    # The owner of an action who does not see the plan may not mark it either.
    assert not needtoknow.may_change(seen, Change.ACTION_STATUS, owns_action=True)


def test_every_information_kind_opens_its_sections():
    seen = sight(agency="upoint", consent=INFORMATION_KINDS)
    assert seen is not None and seen.full and seen.withheld() == []
    assert seen.sees_entry("handoff_updated", "bridging_health")
    assert seen.sees_entry("handoff_escalated", "hold_termination")
    assert seen.sees_entry("something_new")  # full sight shows what nobody mapped


def test_without_a_valid_consent_a_member_sees_that_the_pathway_exists_and_nothing_more():
    seen = sight(agency="jobcenter", consent=None)
    assert seen is not None and seen.restricted and seen.standing is Standing.MEMBER
    assert not seen.sees(None) and not any(seen.sees(k) for k in INFORMATION_KINDS)
    assert not seen.sees_entry("member_added")
    assert not needtoknow.may_change(seen, Change.ACTION_STATUS, owns_action=True)


def test_a_consent_with_unknown_kinds_opens_nothing_more():
    seen = sight(agency="mentor", consent=["everything", "cpr"])
    assert seen is not None and seen.kinds == frozenset() and seen.sees(None)


def test_a_coordinator_sees_a_pathway_only_while_it_awaits_its_tovholder():
    awaiting = sight("koordinator", roles=[StaffRole.COORDINATOR], tovholder=None)
    assert awaiting is not None and awaiting.standing is Standing.COORDINATOR and awaiting.full
    assert {c for c in Change if needtoknow.may_change(awaiting, c)} == {
        Change.TEAM, Change.APPOINT, Change.CLOSE}
    assert sight("koordinator", roles=[StaffRole.COORDINATOR]) is None  # has one now
    assert sight("koordinator", roles=[StaffRole.COORDINATOR], tovholder=None,
                 closed=True) is None


@pytest.mark.parametrize("roles", [[], [StaffRole.FRONTEN], [StaffRole.TOVHOLDER],
                                   [StaffRole.OPERATOR], [StaffRole.HOUSING_OFFICER]])
def test_everyone_else_gets_nothing(roles):
    assert sight("anne", roles=roles) is None
    assert sight("anne", roles=roles, tovholder=None) is None


def test_partners_never_see_a_pathway_and_services_read_everything():
    assert sight("kab", kind="partner", roles=[StaffRole.PARTNER]) is None
    service = sight("notifications", kind="service")
    assert service is not None and service.standing is Standing.SERVICE and service.full


def test_a_refused_change_names_the_actor_and_the_rule():
    seen = sight(agency="social_services")
    assert seen is not None
    with pytest.raises(DomainError) as refused:
        needtoknow.require_change(seen, Change.MEETING)
    assert (refused.value.field, refused.value.rule) == ("actor", "not_allowed")
    assert "tovholder" in refused.value.message
