"""create_app(): settings, database, worker, middleware, error handlers, routers, console."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rapport import __version__
from rapport.config import Settings, get_settings
from rapport.core.collector import quiet_collector
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.logging import configure_logging
from rapport.core.realtime import start_hub, stop_hub
from rapport.domains import background_parts, load_tasks, root_routers
from rapport.identity.sessions import sign_ins
from rapport.web.api import api_router
from rapport.web.bodies import BodyMiddleware
from rapport.web.console import mount_console
from rapport.web.docs import router as docs_router
from rapport.web.errors import install_error_handlers
from rapport.web.health import router as health_router
from rapport.web.middleware import ForegroundMiddleware, HeadMiddleware, RequestContextMiddleware
from rapport.web.openapi import install_openapi
from rapport.web.realtime import router as realtime_router
from rapport.web.widget import WidgetCorsMiddleware
from rapport.web.widget import router as widget_router
from rapport.worker.runner import Worker


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the Rapport application; refuses to start in production without a secret key."""
    settings = settings or get_settings()
    configure_keyring(settings.secret_keys())
    configure_logging(settings.log_level)
    sign_ins.configure(settings)
    load_tasks()
    database = database or Database(settings.database_url)
    background = background_parts(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await start_hub(settings.redis_url)
        for part in background.values():
            part.start()
        quiet_collector()
        worker_task = None
        if settings.run_worker:
            worker = Worker(database, concurrency=settings.worker_concurrency)
            worker_task = asyncio.create_task(worker.run_forever(stop))
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(worker_task, timeout=10)
            for part in reversed(background.values()):
                part.stop()
            await stop_hub()
            await database.dispose()

    app = FastAPI(
        title="Rapport",
        version=__version__,
        description="Self-hosted customer-experience platform for online shops.",
        lifespan=lifespan,
        # /docs is served by rapport.web.docs from npm's swagger-ui-dist, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    for name, part in background.items():
        setattr(app.state, name, part)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    for router in root_routers():
        app.include_router(router)
    app.include_router(realtime_router)
    app.include_router(widget_router)
    app.include_router(docs_router)
    install_openapi(app)
    mount_console(app, settings)
    app.add_middleware(ForegroundMiddleware)  # innermost: the route's own work
    app.add_middleware(
        BodyMiddleware,
        budget_bytes=settings.body_buffer_mb * 1024 * 1024,
        reads_per_address=settings.bodies_per_address,
    )
    app.add_middleware(HeadMiddleware)
    app.add_middleware(WidgetCorsMiddleware)
    app.add_middleware(RequestContextMiddleware, hsts=settings.secure_cookies)
    return app
