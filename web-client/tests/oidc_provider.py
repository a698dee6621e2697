"""A real OpenID Connect provider on loopback for the sign-in tests, built with Authlib
(the provider side: authorization code with PKCE S256, ID tokens with nonce, refresh
tokens) on Flask, served by werkzeug in a thread of the test process.

It has what a company's provider has: a discovery document, a JWKS, a login form with
passwords, groups in the ID token, and key rotation (`rotate_keys`). The tests steer it
directly (it runs in their process): `misbehave` makes its next ID tokens wrong in one
way (another audience, expired, another nonce), `users[...]["groups"]` changes a
person's groups, `stop()` takes it off the network.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

# werkzeug's request log would print every URL, authorization codes included.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

CLIENT_ID = "dugnad-hub"
CLIENT_SECRET = "test-client-secret-" + "x" * 16


class Client:
    """The hub, registered as a confidential client (client_secret_post)."""

    def __init__(self, redirect_uris: list[str]):
        self.redirect_uris = redirect_uris

    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email", "groups"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret or "", CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_post"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class AuthorizationCode:
    def __init__(self, **fields):
        self.__dict__.update(fields)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class RefreshToken:
    def __init__(self, user: str, scope: str):
        self.user = user
        self.scope = scope
        self.revoked = False

    def get_scope(self):
        return self.scope

    def is_expired(self):
        return False

    def is_revoked(self):
        return self.revoked

    def check_client(self, client):
        return client.get_client_id() == CLIENT_ID


class Provider:
    """The provider's state and its Flask app; `start()` serves it on 127.0.0.1."""

    def __init__(self):
        self.users = {
            "kari": {"password": "kari-pass", "name": "Kari Nordmann", "groups": ["staff", "board-members"]},
            "ola": {"password": "ola-pass", "name": "Ola Hansen", "groups": ["staff"]},
        }
        self.keys: list[RSAKey] = []
        self.rotate_keys()
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.redirect_uris: list[str] = []
        # None, or how the next ID tokens are wrong: "wrong_audience", "expired", "bad_nonce".
        self.misbehave: str | None = None
        self.token_requests = 0
        self.jwks_requests = 0
        self.server = None
        self.thread = None
        self.port = None
        self.app = self._make_app()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rotate_keys(self):
        """A new signing key; the old one stays in the JWKS for a while, as at a real provider."""
        kid = f"key-{len(self.keys) + 1}-{secrets.token_hex(2)}"
        key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
        self.keys = ([key] + self.keys)[:2]

    @property
    def signing_key(self) -> RSAKey:
        return self.keys[0]

    def jwks(self) -> dict:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    # -- serving ------------------------------------------------------------------

    def start(self) -> "Provider":
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _make_app(self) -> Flask:
        app = Flask("oidc-provider")
        # Refresh tokens: the hub re-checks a person's groups with them.
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        provider = self

        class IDToken(OpenIDToken):
            def resolve_client_private_key(self, client):
                return provider.signing_key

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.signing_key.kid}

            def get_client_claims(self, client):
                now = int(time.time())
                claims = {"iss": provider.issuer, "aud": [CLIENT_ID], "exp": now + 300}
                if provider.misbehave == "wrong_audience":
                    claims["aud"] = ["another-application"]
                if provider.misbehave == "expired":
                    claims.update(iat=now - 1200, exp=now - 600)
                return claims

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.misbehave == "bad_nonce":
                    claims["nonce"] = "not-the-nonce-the-hub-sent"
                return claims

            def generate_user_info(self, user, scope):
                person = provider.users[user]
                return UserInfo(sub=user, name=person["name"], groups=list(person["groups"]))

        class IDTokenForCode(IDToken, OpenIDCode):
            def exists_nonce(self, nonce, req):
                return any(c.nonce == nonce for c in provider.codes.values())

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]

            def save_authorization_code(self, code, req):
                provider.codes[code] = AuthorizationCode(
                    code=code, redirect_uri=req.payload.redirect_uri, scope=req.payload.scope, user=req.user,
                    nonce=req.payload.data.get("nonce"), auth_time=int(time.time()),
                    code_challenge=req.payload.data.get("code_challenge"),
                    code_challenge_method=req.payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                return provider.codes.get(code)

            def delete_authorization_code(self, authorization_code):
                # A code is good once: the second exchange gets invalid_grant.
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token):
                token = provider.refresh_tokens.get(refresh_token)
                return token if token and not token.revoked else None

            def authenticate_user(self, credential):
                return credential.user if credential.user in provider.users else None

            def revoke_old_credential(self, credential):
                credential.revoked = True

        def save_token(token, req):
            if token.get("refresh_token"):
                provider.refresh_tokens[token["refresh_token"]] = RefreshToken(req.user, token.get("scope", ""))

        server = AuthorizationServer(app, query_client=lambda cid: Client(provider.redirect_uris) if cid == CLIENT_ID else None, save_token=save_token)
        server.register_grant(CodeGrant, [IDTokenForCode(require_nonce=True), CodeChallenge(required=True)])
        server.register_grant(RefreshGrant, [IDToken()])

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=provider.issuer,
                authorization_endpoint=f"{provider.issuer}/authorize",
                token_endpoint=f"{provider.issuer}/token",
                jwks_uri=f"{provider.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_post"],
            )

        @app.get("/favicon.ico")
        def favicon():
            # The browser asks for one on the login form; a 404 would be a console error.
            return "", 204

        @app.get("/jwks")
        def jwks():
            provider.jwks_requests += 1
            return jsonify(provider.jwks())

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            try:
                # A request without PKCE, with an unregistered redirect_uri, etc. never sees the form.
                grant = server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return f"invalid authorization request: {error.error}: {error.description}", 400
            if request.method == "GET":
                return _login_form(request.query_string.decode(), error=None)
            user = request.form.get("username", "")
            person = provider.users.get(user)
            if not person or not secrets.compare_digest(request.form.get("password", ""), person["password"]):
                return _login_form(request.query_string.decode(), error="Wrong username or password."), 401
            grant.request.user = user
            return server.create_authorization_response(grant=grant, grant_user=user)

        @app.post("/token")
        def token():
            provider.token_requests += 1
            return server.create_token_response()

        return app


def _login_form(query: str, error: str | None) -> str:
    """The provider's own sign-in page (the parameters stay in the form's action URL)."""
    message = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Company sign-in</title></head>
<body><h1>Company account</h1>{message}
<form id="login" method="post" action="/authorize?{html.escape(query)}">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit">Sign in</button></form></body></html>"""
