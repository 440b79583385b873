"""partners: the municipality's directory of partners and offers, and the hand-offs to
them (requested -> received -> accepted or declined -> in progress -> completed, or
cancelled), answered by the partners and escalated when they are not (issue 16,
docs/decisions/0013-hand-offs-close-the-loop.md)."""
