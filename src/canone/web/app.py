"""The web application: JSON API, Billing & Upgrade page and support console."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from canone.bootstrap import build_services, needs_migration, wall_clock
from canone.services.context import Services
from canone.services.ports import Clock
from canone.services.throttle import SignInThrottle
from canone.settings import Settings
from canone.web import problems
from canone.web.access_log import AccessLog

STATIC = Path(__file__).parent / "static"


class NotMigrated(RuntimeError):
    pass


def create_app(settings: Settings | None = None, services: Services | None = None, *,
               sign_in_clock: Clock | None = None, serving: bool = False) -> FastAPI:
    """The app; `sign_in_clock` times the sign-in throttle (default: the wall clock, never
    the billing test clock, which tests move by days). `serving`: the app is a server
    process's for the rest of its life, which `warm_and_freeze` prepares at start-up."""
    settings = settings or Settings.from_env()
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if needs_migration(services):
            raise NotMigrated("The database is not migrated: run `canone db upgrade` first.")
        if serving:
            warm_and_freeze()
        yield

    # /docs and /redoc with the Swagger UI and ReDoc scripts of an installed package, not a
    # CDN: the API docs work offline (the assets are under /static-offline-docs).
    app: FastAPI = FastAPIOffline(title="canone", version="1", lifespan=lifespan,
                                  description="Subscription billing and plan management.")
    app.state.settings = settings
    app.state.services = services
    app.state.sign_in_throttle = SignInThrottle(sign_in_clock or wall_clock())
    problems.install(app)
    app.add_middleware(AccessLog)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    from canone.web.api import PREFIX as API_PREFIX
    from canone.web.api import router as api_router
    from canone.web.console import router as console_router
    from canone.web.limits import BodyLimit
    from canone.web.page_headers import PageHeaders
    from canone.web.portal import router as portal_router
    from canone.web.stripe_webhooks import router as stripe_router

    app.include_router(api_router)
    app.include_router(portal_router)
    app.include_router(console_router)
    app.include_router(stripe_router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(PageHeaders, api_prefix=API_PREFIX)
    return app


def warm_and_freeze() -> None:
    """Compile the templates, then take all that start-up made out of the cyclic garbage
    collector's generations (`gc.freeze`). Modules, routes, templates and catalogs live as
    long as the process; left in the oldest generation, every full collection walked them
    all again, and a heap grown by a fifth made the collector a thirtieth of a live quote.
    Not in tests' apps: objects frozen are never collected, even once unreachable."""
    from canone.web.templating import compile_all

    compile_all()
    gc.collect()  # start-up's garbage goes now, not frozen with the rest
    gc.freeze()


def app_from_env() -> FastAPI:
    """The factory `canone serve` hands to uvicorn (one call per worker process)."""
    settings = Settings.from_env()
    if problem := settings.secret_problem():  # started without `canone serve`
        raise SystemExit(f"error: {problem}")
    return create_app(settings, serving=True)
