"""The sign-in form's CSRF token, for the time before there is a session (login CSRF).

Without it a page on any site could post its own username and password to ``/login`` from
the victim's browser: the victim would be signed in as the attacker, and approving an agent
there would bind the victim's agent to the attacker's account for good (PS-28). So the form
carries a token that is also set as a cookie (double submit, compared in constant time), and
the token is the server's own: ``<issued>.<nonce>.<MAC>`` under a secret kept in the store,
valid for :data:`LOGIN_FORM_LIFETIME` seconds. A site can neither read the cookie nor forge a
token; nothing is stored per form, so showing the form costs no write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from aauth_signing import b64url_encode

from ..store.base import Store
from .server_secrets import stored_secret

__all__ = ["LOGIN_FORM_LIFETIME", "LoginCsrf"]

LOGIN_FORM_LIFETIME = 3600
_MAX_TOKEN = 128


class LoginCsrf:
    """Issues and checks sign-in form tokens under this store's secret."""

    def __init__(
        self,
        store: Store,
        *,
        lifetime: int = LOGIN_FORM_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = stored_secret(store, "login-csrf-secret")
        self.lifetime = lifetime
        self._clock = clock

    def _mac(self, issued: str, nonce: str) -> str:
        message = f"{issued}.{nonce}".encode("ascii")
        return b64url_encode(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self) -> str:
        """A fresh token for one sign-in form (and its cookie)."""
        issued, nonce = str(int(self._clock())), secrets.token_urlsafe(16)
        return f"{issued}.{nonce}.{self._mac(issued, nonce)}"

    def current(self, cookie: str | None) -> str:
        """The browser's token while it has at least half its life left (so forms open in
        several tabs stay valid together), else a fresh one."""
        if cookie and self.check(cookie, cookie):
            issued = int(cookie.split(".", 1)[0])
            if self._clock() - issued <= self.lifetime / 2:
                return cookie
        return self.issue()

    def check(self, cookie: str | None, field: str | None) -> bool:
        """Whether the cookie and the form field carry the same token, this server's, unexpired."""
        if not cookie or not field or len(cookie) > _MAX_TOKEN or not cookie.isascii():
            return False
        if not hmac.compare_digest(cookie.encode("ascii"), field.encode("utf-8")):
            return False
        parts = cookie.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return False
        issued, nonce, mac = parts
        if not hmac.compare_digest(mac.encode("ascii"), self._mac(issued, nonce).encode("ascii")):
            return False
        return 0 <= self._clock() - int(issued) <= self.lifetime
