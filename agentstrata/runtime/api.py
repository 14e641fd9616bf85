"""The agent's JSON API: /health, /ready, /interface, /outputs/{name}, /events.

Anyone who reaches the port reads it: answers name files as the stack writes them (or by their
file name), never by absolute path, and carry no traceback and no process id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agentstrata.wire import EVENTS_PATH, HEALTH_PATH, INTERFACE_PATH, READY_PATH, output_path

if TYPE_CHECKING:
    from agentstrata.runtime.host import AgentHost


def api_routes(host: "AgentHost") -> list[Route]:
    runner, store, config = host.runner, host.store, host.config

    async def health(_: Request) -> Response:
        # Degraded: something failed (an input's last update, the last run, a state write); the last good
        # outputs are still served, and each cause is named here until it clears.
        problems = [*host.board.problems(), *runner.problems(), *store.problems()]
        return JSONResponse({
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "agent": config.agent,
            "stack": config.interface.get("stack"),
            "ready": runner.ready,
            "running": runner.busy,
            "pending": host.pending(),
            "upstream_busy": host.upstream_busy(),
            "runs": runner.runs,
            "last_run_at": runner.last_run_at,
            "last_run_ms": None if runner.last_run_seconds is None else round(runner.last_run_seconds * 1000, 1),
            "last_error": runner.last_error(),
            "inputs": host.board.status(),
            "outputs": {
                name: {"version": r.version if (r := store.get(name)) else None, "stale": runner.is_stale(name),
                       "updated_at": r.updated_at if r else None}
                for name in runner.output_names()
            },
            "transport": config.options.transport,
            "subscribers": host.events.subscribers,
        })

    async def ready(_: Request) -> Response:
        if runner.ready:
            return JSONResponse({"ready": True, "agent": config.agent})
        missing = host.board.unresolved()
        error = runner.last_error()
        if not missing:
            missing.append(f"first run failed: {error['message']}" if error else "first run has not finished yet")
        return JSONResponse({"ready": False, "agent": config.agent, "missing": missing, "last_error": error},
                            status_code=503)

    async def interface(_: Request) -> Response:
        body: dict[str, Any] = dict(config.interface)
        if runner.bindings is not None and not body.get("outputs"):
            body["outputs"] = [{"name": b.name, "type": "any", "exposed_as": f"reactive_cell:{b.variable}"}
                               for b in runner.bindings]
            body["left_out"] = runner.left_out
        return JSONResponse({**body, "edit": config.edit, "transport": config.options.transport})

    async def output(request: Request) -> Response:
        name = request.path_params["name"]
        if runner.bindings is None:
            return JSONResponse({"error": "this notebook's outputs are discovered at its first run, "
                                          "which has not succeeded yet"}, status_code=503)
        names = runner.output_names()
        if name not in names:
            return JSONResponse({"error": f"unknown output {name!r}", "outputs": names}, status_code=404)
        record = store.get(name)
        if record is None:
            if name in runner.output_errors:
                return JSONResponse({"error": runner.output_errors[name]}, status_code=500)
            error = runner.last_error()
            reason = f"last run failed: {error['message']}" if error else "; ".join(host.board.unresolved())
            return JSONResponse({"error": f"output {name!r} has no value yet", "reason": reason or "first run pending"},
                                status_code=503)
        etag = f'"{record.version}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("if-none-match"), record.version):
            return Response(status_code=304, headers=headers)
        return Response(host.envelope(record), media_type="application/json", headers=headers)

    async def events(_: Request) -> Response:
        return StreamingResponse(
            host.events.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [
        *_get_only(HEALTH_PATH, health),
        *_get_only(READY_PATH, ready),
        *_get_only(INTERFACE_PATH, interface),
        *_get_only(output_path("{name}"), output),
        *_get_only(EVENTS_PATH, events),
    ]


def _get_only(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> list[Route]:
    """``endpoint`` for GET (and HEAD), 405 for any other method: no request to the API reaches the UI at /."""
    return [Route(path, endpoint, methods=["GET"]), Route(path, _MethodNotAllowed())]


class _MethodNotAllowed:
    """An ASGI app, not a function: Starlette then matches its route for every method, not only GET."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"error": f"{scope['method']} is not allowed here; use GET"}, status_code=405,
                                headers={"Allow": "GET, HEAD"})
        await response(scope, receive, send)


def _matches(if_none_match: str | None, version: str) -> bool:
    """``If-None-Match``: a list of (possibly weak) entity tags, or ``*``; bare versions are accepted too."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == version:
            return True
    return False
