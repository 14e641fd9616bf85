"""One agent's host: the Starlette app that ties inputs, runner, outputs, events and UI together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from agentstrata.marimo_adapter.ui_server import MarimoUI, marimo_ui
from agentstrata.runtime.agent_runner import AgentRunner
from agentstrata.runtime.api import api_routes
from agentstrata.runtime.edit_token import EditToken, edit_token
from agentstrata.runtime.envelope import envelope_bytes
from agentstrata.runtime.events import VersionEvents
from agentstrata.runtime.host_config import HostConfig
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.notebook_runner import Notebook
from agentstrata.runtime.notebook_watch import NotebookWatch
from agentstrata.runtime.origin_guard import SameOriginOnly
from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.sources import build_input_sources
from agentstrata.runtime.sources.input_source import InputSource
from agentstrata.runtime.state_dir import StateDir
from agentstrata.runtime.tasks import Periodic
from agentstrata.runtime.transports import transport_for
from agentstrata.runtime.transports.transport import Publisher, Subscription
from agentstrata.runtime.versions import OutputVersion

log = logging.getLogger(__name__)

#: How often outputs that could not be persisted are written again.
PERSIST_RETRY_SECONDS = 2.0


class AgentHost:
    def __init__(self, config: HostConfig, *, listen_host: str = "127.0.0.1") -> None:
        options = config.options
        self.config = config
        # First: a transport without its settings is refused before the notebook is loaded.
        transport = transport_for(options)(config)
        self.store = OutputStore(StateDir(config.state_dir) if config.state_dir else None)
        self.board = InputBoard(config.sources)
        #: One per upstream agent (filled once the runner exists); the runner asks them through upstream_busy.
        self.subscriptions: list[Subscription] = []
        self.runner = AgentRunner(Notebook(config.notebook), config.bindings, self.board, self.store,
                                  max_payload=options.max_payload, debounce=options.debounce,
                                  outputs_only=options.outputs_only, upstream_busy=self.upstream_busy,
                                  upstream_wait=options.upstream_wait, on_activity=self._activity)
        self.events = VersionEvents(config.agent, self.store, keepalive=options.keepalive)
        self.events.pending = self.pending
        self.subscriptions = [transport.subscribe(upstream, self.board, self._upstream_moved)
                              for upstream in config.upstreams.values()]
        publisher = transport.publisher(self.store)
        #: Everything started with the server and stopped with it.
        self.background: list[InputSource | Publisher | Periodic] = [
            *self.subscriptions,
            *build_input_sources(config, self.board),
            *([publisher] if publisher is not None else []),
            NotebookWatch(config.notebook, self.runner.notebook_changed),
            Periodic("persist unsaved outputs", PERSIST_RETRY_SECONDS, self.store.persist_unsaved),
        ]
        self.ui: MarimoUI | None = None
        #: The token guarding the UI in edit mode (None: read-only UI, or none).
        self.edit_token: EditToken | None = None
        routes: list[BaseRoute] = list(api_routes(self))
        if options.ui:
            if config.edit:
                self.edit_token = edit_token(options.edit_token, config.state_dir)
            self.ui = marimo_ui(config.notebook, edit=config.edit, session_ttl=options.session_ttl,
                                host=listen_host, port=config.port,
                                token=self.edit_token.value if self.edit_token else None,
                                allowed_origins=options.allowed_origins)
            # Last, so /health, /outputs/... are matched before the notebook's UI.
            routes.append(Mount("/", app=SameOriginOnly(self.ui.app, options.allowed_origins)))
        self.app = Starlette(routes=routes, lifespan=self._lifespan)

    def upstream_busy(self) -> bool:
        return any(subscription.busy for subscription in self.subscriptions)

    def pending(self) -> bool:
        """A run is due or in progress here, or upstream: what this agent serves may change soon."""
        return self.runner.busy or self.runner.pending or self.upstream_busy()

    def _activity(self) -> None:
        self.events.refresh()

    def _upstream_moved(self) -> None:
        self.runner.upstreams_changed()
        self.events.refresh()

    def envelope(self, record: OutputVersion) -> bytes:
        return envelope_bytes(self.config.agent, record, self.runner.is_stale(record.name))

    def begin_shutdown(self) -> None:
        """Called when the server is asked to stop: open event streams end now, not at a timeout."""
        self.events.close()

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.store.restore(self.runner.output_names())
        self.runner.start()
        for task in self.background:
            task.start()
        log.info("agent %s serving %s (inputs: %s; outputs: %s)", self.config.agent, self.config.notebook,
                 ", ".join(self.config.sources) or "none", ", ".join(self.runner.output_names()) or "discovered")
        try:
            yield
        finally:
            self.events.close()
            await asyncio.gather(*(task.stop() for task in self.background), return_exceptions=True)
            await self.runner.stop()
            if self.ui is not None:
                await self.ui.close()
