"""Samspil's services. Each subpackage is deployable on its own; they share only
`contracts` and `services.common`."""

import warnings

# eventlet warns at import that it is in maintenance mode (see docs/decisions/0001).
# Filtered by message, before nameko imports it, so real warnings still show.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)
