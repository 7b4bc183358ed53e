"""The TLS settings of every outbound HTTPS client: TLS 1.2 or later, verified (V-43, §H.7).

Python's default context already refuses older versions on most builds; this makes the floor
explicit rather than a property of the OpenSSL the interpreter happened to link.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

__all__ = ["tls_context"]


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """A verifying client context whose minimum protocol version is TLS 1.2 (shared: it is
    only read after creation)."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
