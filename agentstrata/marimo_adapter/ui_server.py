"""The notebook's own marimo UI, mounted at ``/`` of the agent's host: marimo's UI server and its sessions.

Read-only app mode goes through marimo's public ASGI API (``marimo.create_asgi_app``), though
reaching its sessions (to close them) reads the builder's private app cache. That API only knows
run mode, so an agent with ``edit: true`` gets the same assembly, from marimo's private server
modules, in edit mode, always behind a token. Each browser session runs its own kernel: sessions
are bounded by ``session_ttl``, and no output is ever computed by them (the host's own
``app.run`` does that).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import marimo

from agentstrata.wire import EDIT_TOKEN_ENV


@dataclass
class MarimoUI:
    app: Any
    #: The marimo session managers behind the mount, closed when the host stops.
    session_managers: list[Any]
    edit_token: str | None = None

    async def close(self) -> None:
        for manager in self.session_managers:
            await manager.shutdown()


def edit_token(configured: str | None) -> str:
    """The edit token: as configured, else STRATA_EDIT_TOKEN, else a fresh random one."""
    return configured or os.environ.get(EDIT_TOKEN_ENV) or secrets.token_urlsafe(16)


def marimo_ui(
    notebook: Path, *, edit: bool, session_ttl: int, host: str, port: int, token: str | None = None
) -> MarimoUI:
    from marimo._server.utils import initialize_mimetypes

    # What marimo's own server does at startup (its lifespans do not run inside a mount).
    initialize_mimetypes()
    if edit:
        return _edit_mode(notebook, session_ttl, edit_token(token), host, port)
    builder = marimo.create_asgi_app(quiet=True, include_code=False, session_ttl=session_ttl)
    built = builder.with_app(path="", root=str(notebook)).build()
    # The builder keeps one Starlette app per notebook; its state holds the session manager.
    mounted = list(getattr(builder, "_app_cache", {}).values())
    return MarimoUI(built, [app.state.session_manager for app in mounted])


def _edit_mode(notebook: Path, session_ttl: int, token: str, host: str, port: int) -> MarimoUI:
    from marimo._config.manager import get_default_config_manager
    from marimo._server.config import StarletteServerStateInit
    from marimo._server.lsp import NoopLspServer
    from marimo._server.main import create_starlette_app
    from marimo._server.session_manager import SessionManager
    from marimo._server.tokens import AuthToken
    from marimo._server.workspace import SingleFileWorkspace
    from marimo._session.model import SessionMode
    from marimo._utils.marimo_path import MarimoPath

    config = get_default_config_manager(current_path=str(notebook))
    manager = SessionManager(
        workspace=SingleFileWorkspace.from_path(MarimoPath(str(notebook))),
        mode=SessionMode.EDIT,
        quiet=True,
        include_code=True,
        lsp_server=NoopLspServer(),
        config_manager=config,
        cli_args={},
        argv=None,
        auth_token=AuthToken(token),
        redirect_console_to_browser=False,
        ttl_seconds=session_ttl,
    )
    app = create_starlette_app(base_url="", enable_auth=True, allow_origins=("*",), skew_protection=False)
    StarletteServerStateInit(
        port=port, host=host, base_url="", asset_url=None, headless=True, quiet=True,
        session_manager=manager, config_manager=config, remote_url=None,
        mcp_server_enabled=False, skew_protection=False, enable_auth=True,
    ).apply(app.state)
    return MarimoUI(cast(Any, app), [manager], token)
