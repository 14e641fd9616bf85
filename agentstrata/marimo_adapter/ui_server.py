"""The notebook's own marimo UI, mounted at ``/`` of the agent's host: marimo's UI server and its sessions.

Read-only app mode goes through marimo's public ASGI API (``marimo.create_asgi_app``), though
reaching its sessions (to close them) reads the builder's private app cache. That API only knows
run mode, so an agent with ``edit: true`` gets the same assembly, from marimo's private server
modules, in edit mode, always behind a token. Each browser session runs its own kernel: sessions
are bounded by ``session_ttl``, and no output is ever computed by them (the host's own
``app.run`` does that).

What marimo exposes is narrowed: no CORS for any origin (run mode allows ``*``; edit mode allows
only the origins the agent is told to trust), and the read-only page names the notebook by its
file name, not by its absolute path and directory (marimo puts both in the page's initial state).
Edit mode keeps them: saving needs the real path, and its page is behind the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, cast
from urllib.parse import quote

import marimo
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class MarimoUI:
    app: Any
    #: The marimo session managers behind the mount, closed when the host stops.
    session_managers: list[Any]

    async def close(self) -> None:
        for manager in self.session_managers:
            await manager.shutdown()


def marimo_ui(
    notebook: Path, *, edit: bool, session_ttl: int, host: str, port: int, token: str | None = None,
    allowed_origins: Iterable[str] = (),
) -> MarimoUI:
    """The UI of ``notebook``; in edit mode ``token`` is required and ``allowed_origins`` get CORS."""
    from marimo._server.utils import initialize_mimetypes

    # What marimo's own server does at startup (its lifespans do not run inside a mount).
    initialize_mimetypes()
    if edit:
        assert token, "edit mode is always behind a token"
        return _edit_mode(notebook, session_ttl, token, host, port, tuple(allowed_origins))
    builder = marimo.create_asgi_app(quiet=True, include_code=False, session_ttl=session_ttl)
    built = builder.with_app(path="", root=str(notebook)).build()
    # The builder keeps one Starlette app per notebook; its state holds the session manager.
    mounted = list(getattr(builder, "_app_cache", {}).values())
    for app in mounted:
        # Run mode hard-codes CORS for "*"; the middleware stack is built at the first request, so this holds.
        app.user_middleware = [m for m in app.user_middleware if m.cls is not CORSMiddleware]
    managers = [app.state.session_manager for app in mounted]
    return MarimoUI(_NotebookPathHidden(built, managers[0].workspace.get_unique_file_key()), managers)


def _edit_mode(
    notebook: Path, session_ttl: int, token: str, host: str, port: int, allowed_origins: tuple[str, ...]
) -> MarimoUI:
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
    app = create_starlette_app(base_url="", enable_auth=True, allow_origins=allowed_origins, skew_protection=False)
    StarletteServerStateInit(
        port=port, host=host, base_url="", asset_url=None, headless=True, quiet=True,
        session_manager=manager, config_manager=config, remote_url=None,
        mcp_server_enabled=False, skew_protection=False, enable_auth=True,
    ).apply(app.state)
    return MarimoUI(cast(Any, app), [manager])


class _NotebookPathHidden:
    """marimo's read-only page, naming the notebook by its file name only.

    marimo writes the notebook's absolute path in the page (its title element, the mount config's
    ``filename``, the service worker's notebook id, URI-encoded), its directory as ``cwd``, and an LSP
    workspace of absolute URIs (unused in app mode). The notebook id comes back in the
    ``X-Notebook-Id`` header of ``/public/`` requests, and is translated back for marimo.
    """

    def __init__(self, app: ASGIApp, file_key: str) -> None:
        self.app = app
        name = PurePath(file_key).name
        self.shown_id, self.real_id = _uri_component(name).encode(), _uri_component(file_key).encode()
        self.literal = [(file_key.encode(), name.encode()), (self.real_id, self.shown_id)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(key, self.real_id if key == b"x-notebook-id" and value == self.shown_id
                                       else value) for key, value in scope["headers"]]}
        start: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if MutableHeaders(scope=message).get("content-type", "").startswith("text/html"):
                    start = message
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = self.hide(bytes(body))
                MutableHeaders(scope=start)["content-length"] = str(len(page))
                await send(start)
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, rewrite)

    def hide(self, page: bytes) -> bytes:
        for absolute, shown in self.literal:
            page = page.replace(absolute, shown)
        page = _CWD.sub(b'"cwd": ""', page)
        return _LSP_WORKSPACE.sub(b'"lspWorkspace": null', page)


_CWD = re.compile(rb'"cwd": "[^"]*"')
_LSP_WORKSPACE = re.compile(rb'"lspWorkspace": \{[^{}]*\}')


def _uri_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``, as marimo encodes the notebook id."""
    return quote(text, safe="~()*!.'")
