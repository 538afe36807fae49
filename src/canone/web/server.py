"""`canone serve`: uvicorn on a socket bound first, so a port clash is a clear message
before anything starts, and "serving on …" is said once the server really listens. One
access line per request comes from `access_log.AccessLog` (uvicorn's own is off)."""

from __future__ import annotations

import errno
import logging
import socket

import uvicorn

from canone import logs

log = logging.getLogger("canone.serve")


class PortUnavailable(Exception):
    """The address cannot be listened on; the message says why and what to do."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} on {host} is taken: another program (another `canone serve`?) "
                f"listens there. Stop it, or pick another port: `make run PORT={port + 1}` "
                f"or `canone serve --port {port + 1}`.") from None
        if exc.errno == errno.EACCES:
            raise PortUnavailable(
                f"cannot listen on {host}:{port}: permission denied (ports below 1024 need "
                f"root); pick a port from 1024 up, e.g. `make run PORT=8000`.") from None
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                              ) from None
    sock.set_inheritable(True)  # worker processes take it over
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, saying `ready` once it accepts requests."""

    def __init__(self, config: uvicorn.Config, ready: str) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("%s", self.ready)


def serve(host: str, port: int, workers: int, ready: str) -> None:
    """Serve `app_from_env` on host:port until Ctrl-C; PortUnavailable when it cannot bind."""
    sock = bind(host, port)
    config = uvicorn.Config("canone.web.app:app_from_env", factory=True, host=host, port=port,
                            workers=workers, log_config=logs.LOGGING, log_level="warning",
                            access_log=False)
    try:
        if workers == 1:
            _Server(config, ready).run(sockets=[sock])
            return
        from uvicorn.supervisors import Multiprocess

        log.info("%s (%d worker processes)", ready, workers)  # bound: connections queue up
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:  # Ctrl-C while starting: stop quietly, as once started
        pass
