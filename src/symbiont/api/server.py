"""Serving the API with uvicorn inside the daemon's task group."""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import uvicorn
from anyio.abc import TaskStatus
from fastapi import FastAPI

from symbiont.core.errors import ConfigError


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGINT/SIGTERM."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """Serves *app* on *host*:*port* until `stop`.

    The socket is bound here, before uvicorn starts, so a taken port is a clear
    `ConfigError` instead of uvicorn exiting the process.
    """

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it a response written in two parts waits
        # for the client's delayed ACK (about 40 ms per request).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise ConfigError(
                "flag", "api.port", f"cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
        self._socket.listen(2048)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = _Server(config)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._socket.getsockname()[1])

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until `stop`; report started once the socket listens."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(self._server.serve, sockets=[self._socket]))
            while not self._server.started:
                if self._server.should_exit:
                    return
                await anyio.sleep(0.01)
            task_status.started()

    def stop(self) -> None:
        """Ask the server to finish its requests and stop."""
        self._server.should_exit = True
