"""Who is asking: the viewer behind a request, from its bearer credential or its dashboard
session cookie, and nobody (the public) when it carries neither."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from vigie_kit.access import FailedAttempts, bearer_secret, client_address
from vigie_kit.db import driver
from vigie_kit.http import Problem

from ..adapters.credentials import viewer_for_secret, viewer_for_session
from ..domain.access import PUBLIC, Viewer

# The dashboard session's cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
# page sends it), Secure wherever the service is served over TLS (see StatsSettings).
SESSION_COOKIE = "vigie_session"


async def current_viewer(request: Request) -> Viewer:
    service = request.app.state.service
    secret = bearer_secret(request)
    if secret is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return PUBLIC
        # A session secret is 256 random bits: an unknown or expired one is someone's old
        # cookie, not a guess, and reads as no credential at all.
        async with driver(service.engine, transaction=False) as connection:
            return await viewer_for_session(connection, cookie, datetime.now(UTC)) or PUBLIC
    failed: FailedAttempts = service.failed_attempts
    failed.check(request)
    async with driver(service.engine, transaction=False) as connection:
        viewer = await viewer_for_secret(connection, secret)
    if viewer is None:
        failed.failed(client_address(request))
        raise Problem(
            401,
            "this credential is unknown or revoked, or is not one that reads figures (ARS, national);"
            " without a credential, the published figures are served",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
