"""Bearer-token authentication of ``nuserve serve`` (RFC 6750), off unless a token is given.

Binding 127.0.0.1 keeps other machines out, but not the other users and programs of this
machine, and a server told to bind ``0.0.0.0`` has nothing else in front of it (under Nuclio
the platform's ingress does this job). With a token set, every request, ``/metrics`` and the
health paths included, must carry ``Authorization: Bearer <token>``: a scrape or a probe can
send the header, and counters and model names are worth keeping to those who hold it.

The token is compared with ``hmac.compare_digest``, so the time an answer takes does not
tell how much of a guess was right. It comes from a file or the environment, never from a
command line, where ``ps`` shows it to every user.
"""

from __future__ import annotations

import hmac

CHALLENGE = (b"www-authenticate", b'Bearer realm="nuserve"')
"""The header a 401 carries (RFC 6750 section 3)."""
MISSING = (
    "this server requires a bearer token: send the header `Authorization: Bearer <token>` "
    "(the token the server was given by --auth-token-file or NUSERVE_AUTH_TOKEN)"
)
WRONG = "the bearer token is not valid; send the token the server was given"


def check_bearer(headers: list[tuple[bytes, bytes]], token: bytes) -> str | None:
    """``None`` when the ASGI ``headers`` carry ``token``; else the reason for a 401."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.strip().partition(b" ")
            if scheme.lower() != b"bearer":
                return MISSING
            return None if hmac.compare_digest(credentials.strip(), token) else WRONG
    return MISSING
