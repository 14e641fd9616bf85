"""The runtime: hosts one agent's notebook as an HTTP service, propagates changes between agents,
and runs whole stacks as local processes (``strata serve`` / ``strata up --target local``)."""
