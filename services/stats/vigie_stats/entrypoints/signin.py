"""Signing in to the dashboard: an ARS or CERT Santé agent gives the secret of their credential
once, on a form; the service answers with a session cookie (HttpOnly, SameSite=Strict, Secure
over TLS) and never puts a secret in a URL. Signing out ends the session at once."""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigie_kit.access import FailedAttempts, client_address
from vigie_kit.db import driver

from ..adapters.credentials import close_session, open_session, viewer_for_secret
from ..config import StatsSettings
from .access import SESSION_COOKIE, ViewerDep
from .dashboard import HEADING, _e, layout

router = APIRouter(tags=["dashboard"], include_in_schema=False)
_MAX_FORM_BYTES = 4096
_NO_STORE = {"Cache-Control": "no-store"}


def _form(error: str = "") -> str:
    message = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    main = (
        '<div class="notice"><p>Agents des ARS et du CERT Santé : saisissez le secret de votre accès Vigie'
        " (il commence par <code>viga_</code> ou <code>vign_</code>). Une ARS voit les chiffres exacts de sa"
        " région, le CERT Santé ceux de la France entière.</p>"
        f'{message}<form class="signin" method="post" action="/connexion">'
        '<label for="credential">Secret de votre accès</label>'
        '<input id="credential" name="credential" type="password" autocomplete="current-password" required>'
        '<button type="submit">Se connecter</button></form></div>'
    )
    return layout("Connexion — observatoire", HEADING, "Connexion des ARS et du CERT Santé", main)


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_form() -> HTMLResponse:
    return HTMLResponse(_form(), headers=_NO_STORE)


async def _settings(request: Request) -> StatsSettings:
    settings: StatsSettings = request.app.state.service.settings
    return settings


@router.post("/connexion", response_class=HTMLResponse)
async def sign_in(request: Request, settings: Annotated[StatsSettings, Depends(_settings)]) -> Response:
    service = request.app.state.service
    failed: FailedAttempts = service.failed_attempts
    wait = failed.wait_seconds(client_address(request))
    if wait:
        page = _form(f"Trop d'essais infructueux depuis votre adresse : réessayez dans {wait} s.")
        return HTMLResponse(page, status_code=429, headers={**_NO_STORE, "Retry-After": str(wait)})
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        # Another site's page posting this form would sign its visitor in without them knowing.
        return HTMLResponse(_form("Formulaire envoyé depuis un autre site : refusé."), status_code=403)
    body = await request.body()
    fields = parse_qs(body[:_MAX_FORM_BYTES].decode("utf-8", "replace")) if len(body) <= _MAX_FORM_BYTES else {}
    secret = (fields.get("credential") or [""])[0].strip()
    viewer = None
    if secret:
        async with driver(service.engine, transaction=False) as connection:
            viewer = await viewer_for_secret(connection, secret)
    if viewer is None or viewer.credential_id is None:
        failed.failed(client_address(request))
        return HTMLResponse(
            _form("Ce secret n'ouvre pas l'observatoire : inconnu, révoqué, ou ce n'est pas un accès ARS ou national."),
            status_code=401,
            headers=_NO_STORE,
        )
    lasting = timedelta(hours=settings.session_hours)
    async with driver(service.engine) as connection:
        session = await open_session(connection, viewer.credential_id, datetime.now(UTC), lasting)
    response = RedirectResponse("/tableau-de-bord", status_code=303, headers=_NO_STORE)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(lasting.total_seconds()),
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/deconnexion")
async def sign_out(request: Request, viewer: ViewerDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with driver(request.app.state.service.engine) as connection:
            await close_session(connection, cookie)
    response = RedirectResponse("/tableau-de-bord", status_code=303, headers=_NO_STORE)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
