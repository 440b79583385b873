"""housing's message map: every event it consumes, and the use case that handles it.

housing keeps its own copy of who is a citizen's tovholder (pathway events), so that an
arrears case can name the tovholder without asking coordination, and so that a
tovholder sees the cases of their own citizens (need-to-know). The association's answer
to a hold-termination request comes back as a partners hand-off update: the case follows
(services.housing.handlers.record_handoff_updated).

Every handler is called as ``handler(uow, event, settings)`` (the LadderSettings).
"""

from __future__ import annotations

from services.housing import handlers

EVENT_HANDLERS = {
    "coordination.pathway_opened": handlers.record_pathway_opened,
    "coordination.tovholder_handed_over": handlers.record_tovholder_handed_over,
    "coordination.pathway_closed": handlers.record_pathway_closed,
    "partners.handoff_updated": handlers.record_handoff_updated,
}
