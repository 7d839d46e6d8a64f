"""Static files: the console's own CSS/JS, and front-end libraries straight from node_modules."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from rapport.config import Settings

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# The repository root (where package.json and npm's node_modules live), next to src/.
PROJECT_DIR = Path(__file__).resolve().parents[4]
# Public name under /static/vendor/ -> file inside node_modules (installed by `npm ci`).
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
VENDOR_CACHE = "public, max-age=3600"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}

router = APIRouter(include_in_schema=False)


def node_modules(settings: Settings) -> Path:
    """Return npm's node_modules: under settings.assets_dir if set, else the project's."""
    return (settings.assets_dir or PROJECT_DIR) / "node_modules"


@router.get("/static/vendor/{name}")
async def vendor_file(name: str, request: Request) -> Response:
    """Serve a front-end library installed from npm (never committed to the repository)."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        return PlainTextResponse("No such front-end library.", status_code=404)
    path = node_modules(request.app.state.settings) / relative
    if not path.is_file():
        return PlainTextResponse(
            f"{name} is not installed: run `make setup` (it runs `npm ci`) and reload.",
            status_code=404,
        )
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": VENDOR_CACHE}
    )


def mount_assets(app: FastAPI) -> None:
    """Serve /static/vendor/* from node_modules and everything else under /static."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
