"""Node sign-in tokens: short-lived bearer JWTs this node signs for a person an OpenID Connect
issuer vouched for.

They are the node's one token mechanism used once more, not a second one: the same claims (`sub`,
roles, groups), verified by the same `TokenVerifier` (signature, `iss`, `aud`, `exp`, lifetime
cap, `jti` revocation), only signed with the node's own key (HS256, `Settings.session_key`) and
issued by `<base-url>/auth`. The same key seals the short-lived login state a browser carries
through the issuer (a JWT with another audience, so neither can pass for the other).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from pydantic import SecretStr

from catalogue.access import Identity, Role
from catalogue.errors import AuthenticationError
from catalogue.tokens import TokenPolicy, TokenVerifier, shared_secret

VIA = "oidc"  # `Identity.via` of a person signed in through the issuer


class SessionTokens:
    def __init__(
        self,
        key: SecretStr,
        base_iri: str,
        lifetime_seconds: int,
        is_revoked: Callable[[str], bool],
        leeway_seconds: int = 30,
    ) -> None:
        self._secret = key.get_secret_value()
        self.issuer = f"{base_iri}/auth"
        self.lifetime_seconds = lifetime_seconds
        self.policy = TokenPolicy(
            issuer=self.issuer,
            audience=f"{self.issuer}/session",
            leeway_seconds=leeway_seconds,
            max_lifetime_seconds=lifetime_seconds,
            via=VIA,
        )
        self._verifier = TokenVerifier(shared_secret(self._secret), self.policy, is_revoked)

    def issue(self, identity: Identity) -> str:
        """A token establishing `identity` (subject, roles, curated sites, groups)."""
        now = int(time.time())
        roles = sorted(identity.roles - {Role.CURATOR.value})
        roles += [f"curator:{site}" for site in sorted(identity.sites)]
        claims = {
            "iss": self.issuer,
            "aud": self.policy.audience,
            "sub": identity.subject,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": str(uuid.uuid4()),
            self.policy.roles_claim: roles,
            self.policy.groups_claim: sorted(identity.groups),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def owns(self, token: str) -> bool:
        """Does the token claim to come from this node (to be verified by `verify`)?"""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == self.issuer

    def verify(self, token: str) -> Identity:
        return self._verifier.verify(token)

    def expiry_and_id(self, token: str) -> tuple[int, str]:
        """`exp` and `jti` of a token that verifies (for signing out)."""
        self._verifier.verify(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        return int(claims["exp"]), str(claims["jti"])

    # -- login state ---------------------------------------------------------------------------
    def seal(self, state: dict[str, Any], seconds: int) -> str:
        now = int(time.time())
        claims = {**state, "aud": f"{self.issuer}/login", "iat": now, "exp": now + seconds}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def unseal(self, sealed: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                sealed, self._secret, algorithms=["HS256"], audience=f"{self.issuer}/login"
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the sign-in took too long; please start again") from None
        except jwt.PyJWTError:
            raise AuthenticationError("the sign-in state is not valid; start again") from None
        return claims
