"""The HTTP routes of each service, one module per service (see services.gateway.routing)."""
