"""Every use of marimo's private API (``marimo._...`` modules and ``_``-prefixed attributes), in one place.

Written against marimo 0.25.2, the version pinned in pyproject.toml. marimo's public API covers
running a notebook (``app.run``) and serving it read-only (``marimo.create_asgi_app``), but not
what Strata also needs: reading a notebook's definitions and references without running it, the
cells a set of variables depends on, an edit-mode UI mounted inside another server, and closing
that UI's sessions. Those use internals that may change in any marimo release; keeping them here
means a marimo upgrade is checked against these modules (and their tests) alone.

- ``analysis``: what a notebook defines and reads, found statically (validation's contract rules);
- ``run_graph``: the cells computing some variables needs (the runtime's ``outputs_only``);
- ``ui_server``: marimo's own UI, mounted in the agent's host, its sessions and edit token.

``tests/marimo_adapter/test_private_api_confined.py`` fails when private marimo API is used
anywhere else in ``agentstrata/`` or ``agents/``.
"""
