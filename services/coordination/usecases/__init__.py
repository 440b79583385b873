"""coordination's use cases, one module per area: load, apply the domain rules, save,
add outbox events.

Every use case runs in one unit of work: rows, timeline entries and outgoing events
commit together or not at all. A refused command (DomainError) raises before the
commit, so nothing is written and nothing is published.

- pathways: open, find and close a pathway; its team, network and tovholder.
- pathway_events: the pathway's domain events written as rows, timeline and outbox.
- handoffs: offer referrals, and acknowledging a hand-off that needs attention.
- calendars: working hours, busy blocks, imported feeds, the citizen's preferences.
- meetings: busy times, proposed slots; schedule, reschedule, cancel, record held.
- plans: the handleplan, action status, and the sweep that announces due actions.
- shared: the helpers the modules above share.
"""
