"""coordination's message map: every event it consumes, and the use case that handles it.

The one place to read what reaches coordination from other services. The service class
gets one reliable, idempotent entrypoint per entry (services.common.messaging.consumes).
"""

from __future__ import annotations

from services.coordination import reactions

EVENT_HANDLERS = {
    # intake: the citizen's activity on the pathway timeline; a referral opens a
    # pathway awaiting its tovholder (the coordinators' list).
    "intake.inquiry_registered": reactions.record_inquiry,
    "intake.inquiry_resolved": reactions.record_inquiry_resolved,
    "intake.pathway_referral": reactions.on_pathway_referral,
    "intake.course_started": reactions.record_course_started,
    "intake.course_extended": reactions.record_course_extended,
    "intake.course_review_decided": reactions.record_course_review_decided,
    "intake.course_ended": reactions.record_course_ended,
    "intake.referral_85_decided": reactions.record_referral_85_decided,
    # housing: the timeline, and the housing alerts on the tovholder's list; an
    # escalation or a warning for a citizen with a pathway is passed to the tovholder;
    # a de-escalation moves the alert down.
    "housing.case_opened": reactions.on_housing_case_opened,
    "housing.case_escalated": reactions.on_housing_case_escalated,
    "housing.case_deescalated": reactions.on_housing_case_deescalated,
    "housing.warning_flagged": reactions.on_housing_warning_flagged,
    "housing.action_overdue": reactions.on_housing_action_overdue,
    "housing.case_closed": reactions.record_housing_case_closed,
    # intake's consents: what a team member from another agency may see (need-to-know).
    "intake.consent_given": reactions.record_consent_given,
    "intake.consent_withdrawn": reactions.record_consent_withdrawn,
    # partners: the directory (names; who takes offer referrals), and hand-offs of
    # citizens with an open pathway on the timeline and the tovholder's list of
    # hand-offs needing attention (declined, escalated).
    "partners.partner_registered": reactions.record_partner,
    "partners.handoff_updated": reactions.on_handoff_updated,
    "partners.handoff_escalated": reactions.on_handoff_escalated,
}
