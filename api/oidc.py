"""Browser sign-in with the configured OpenID Connect issuer: `/auth/login`, `/auth/callback`,
`/auth/logout` and `/auth/config` (whether to offer "Sign in with <issuer>").

The login state (state, nonce, PKCE verifier, the page to return to) travels in a sealed cookie
that lives ten minutes and is read once. A successful sign-in hands the browser a node sign-in
token in the URL fragment of the page it came from (fragments are never sent to a server, so the
token reaches no access log); the page keeps it like a pasted token. Failures are a short HTML
page saying what went wrong, never a stack trace; logs get the reason, never a token or a claim.
"""

from __future__ import annotations

import html
import logging
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.auth import credential_of
from api.errors import status_of
from catalogue.errors import AuthenticationError, CatalogueError, NotFoundError
from catalogue.oidc import LoginState, OidcClient, OidcConfig
from catalogue.revocations import TokenRevocations
from catalogue.sessions import SessionTokens

log = logging.getLogger(__name__)

COOKIE = "catalogue_login"
CALLBACK = "/auth/callback"
LOGIN_SECONDS = 600


class SignIn:
    """What the routes need: the issuer's client, the node's sign-in tokens, revocations."""

    def __init__(
        self, client: OidcClient, sessions: SessionTokens, revocations: TokenRevocations
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.revocations = revocations
        self.secure_cookie = client.config.redirect_uri.startswith("https://")


def install(app: FastAPI) -> None:
    """Add the `/auth` routes (after `api.auth.install`); sign-in is on when an issuer is set."""
    config = OidcConfig.from_settings(app.state.settings)
    sessions: SessionTokens | None = app.state.sessions
    if config is not None and sessions is not None:
        app.state.sign_in = SignIn(OidcClient(config), sessions, app.state.revocations)
    else:
        app.state.sign_in = None
    app.include_router(router, prefix="/auth", include_in_schema=False)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideCallbackQuery) for f in access_log.filters):
        access_log.addFilter(HideCallbackQuery())


class HideCallbackQuery(logging.Filter):
    """Access-log lines show `/auth/callback` without its query (the code and the state)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and str(args[2]).startswith(CALLBACK):
            record.args = (*args[:2], f"{CALLBACK}?...", *args[3:])
        return True


router = APIRouter()


def _sign_in(request: Request) -> SignIn:
    found: SignIn | None = request.app.state.sign_in
    if found is None:
        raise NotFoundError("this node offers no sign-in with an issuer")
    return found


@router.get("/config")
async def config(request: Request) -> JSONResponse:
    found: SignIn | None = request.app.state.sign_in
    if found is None:
        return JSONResponse({"enabled": False})
    name = found.client.config.display_name
    return JSONResponse({"enabled": True, "name": name, "login": "/auth/login"})


@router.get("/login", response_model=None)
async def login(request: Request, return_to: str = "/") -> Response:
    sign_in = _sign_in(request)
    try:
        url, state = await sign_in.client.begin(_local(return_to))
    except CatalogueError as exc:
        return _failure(exc, "/")
    reply = RedirectResponse(url, status_code=302)
    reply.set_cookie(
        COOKIE,
        sign_in.sessions.seal(state.as_dict(), LOGIN_SECONDS),
        max_age=LOGIN_SECONDS,
        path="/auth",
        httponly=True,
        secure=sign_in.secure_cookie,
        samesite="lax",  # the issuer sends the browser back with a top-level GET
    )
    return reply


@router.get("/callback", response_model=None)
async def callback(request: Request) -> Response:
    sign_in = _sign_in(request)
    return_to = "/"
    reply: Response
    try:
        login = _login_state(request, sign_in)
        return_to = login.return_to
        _same_issuer(request, sign_in)
        identity = await sign_in.client.finish(_code(request), login)
        token = sign_in.sessions.issue(identity)
    except CatalogueError as exc:
        reply = _failure(exc, return_to)
    else:
        log.info("signed in through the issuer (via %s)", identity.via)
        reply = RedirectResponse(f"{return_to.split('#')[0]}#session={token}", status_code=303)
    reply.delete_cookie(COOKIE, path="/auth")
    reply.headers["Cache-Control"] = "no-store"  # the redirect carries the node token
    return reply


@router.post("/logout", status_code=204)
async def logout(request: Request) -> Response:
    """Refuse the presented node sign-in token from now on; any other credential is left as is
    (the page forgets it). The issuer's own session is not ended."""
    sign_in = _sign_in(request)
    credential = credential_of(request)
    if credential is not None and sign_in.sessions.owns(credential):
        await run_in_threadpool(_sign_out, sign_in, credential)  # the store is synchronous
    return Response(status_code=204)


def _sign_out(sign_in: SignIn, token: str) -> None:
    expires, jti = sign_in.sessions.expiry_and_id(token)
    sign_in.revocations.sign_out(jti, datetime.fromtimestamp(expires, UTC))


def _login_state(request: Request, sign_in: SignIn) -> LoginState:
    sealed = request.cookies.get(COOKIE)
    if not sealed:
        raise AuthenticationError(
            "the sign-in state is missing (started in another browser, or cookies are blocked); "
            "please start again"
        )
    login = LoginState.of(sign_in.sessions.unseal(sealed))
    if not secrets.compare_digest(request.query_params.get("state", ""), login.state):
        raise AuthenticationError("the sign-in state does not match; please start again")
    return login


def _same_issuer(request: Request, sign_in: SignIn) -> None:
    """An issuer that names itself in the answer (RFC 9207) must be ours (no mix-up)."""
    named = request.query_params.get("iss")
    if named is not None and named != sign_in.client.config.issuer:
        raise AuthenticationError("the answer comes from another issuer")


def _code(request: Request) -> str:
    error = request.query_params.get("error")
    if error == "access_denied":
        raise AuthenticationError("the sign-in was refused or cancelled at the issuer")
    if error is not None:
        shown = error if error.isidentifier() else "an error"
        raise AuthenticationError(f"the issuer refused the sign-in ({shown})")
    code = request.query_params.get("code")
    if not code:
        raise AuthenticationError("the issuer sent no sign-in code back")
    return code


def _local(return_to: str) -> str:
    """Only a path on this node (never another site: no open redirect)."""
    parts = urlsplit(return_to)
    if parts.scheme or parts.netloc or not return_to.startswith("/") or "\\" in return_to:
        return "/"
    return return_to


def _failure(exc: CatalogueError, return_to: str) -> HTMLResponse:
    status = status_of(exc)
    log.warning("sign-in failed (%s): %s", exc.code, exc.message)
    body = _PAGE.format(message=html.escape(exc.message), back=html.escape(return_to, quote=True))
    return HTMLResponse(body, status_code=status)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title>
<link rel="stylesheet" href="/app.css"></head>
<body><main><h1>Sign-in failed</h1>
<p role="alert" id="sign-in-error">{message}</p>
<p><a href="{back}">Back to the catalogue</a></p></main></body></html>
"""
