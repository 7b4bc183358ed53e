"""One access-log line per request, with what AAuth made of it.

Each line names the request (method, path — never the query, which may carry an interaction
code), the status, the time taken, and the AAuth outcome: the ``Signature-Key`` scheme the
client used, the agent the participant verified (or, on a challenge, the one its resource
token names), the decision (``allowed``, ``pending``,
``challenged``, ``refused``, ``failed``) and the error code or requirement it answered with.
No header value, token or body is ever logged.

Text (the default)::

    127.0.0.1 "GET /data" 401 2.1ms scheme=jwt agent=aauth:assistant@ap.example
        decision=challenged error=- requirement=auth-token      (one line)

JSON (``--log-format json``): one object per line with the same members, for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jwt import peek
from ..resource.middleware import caller_from_scope

__all__ = [
    "ACCESS_LOGGER",
    "AccessLog",
    "AccessRecord",
    "JsonAccessFormatter",
    "TextAccessFormatter",
    "logging_config",
]

ACCESS_LOGGER = "aauth.access"

_SCHEME = re.compile(rb"^\s*[a-z*][a-z0-9_.*-]*\s*=\s*([a-z][a-z0-9_-]{0,31})")
_RESOURCE_TOKEN = re.compile(r'resource-token\s*=\s*"([A-Za-z0-9_.-]{1,8192})"')
_PARAM = re.compile(r'(?:^|[;\s])(error|requirement)\s*=\s*"?([a-z0-9_-]{1,64})')
_CODE = re.compile(r"[a-z0-9_-]{1,64}")
_MAX_PROBLEM = 4096


@dataclass(frozen=True)
class AccessRecord:
    """What one line says about one request."""

    client: str
    method: str
    path: str
    status: int
    duration_ms: float
    scheme: str | None
    agent: str | None
    decision: str
    error: str | None
    requirement: str | None

    def text(self) -> str:
        outcome = " ".join(
            f"{name}={value or '-'}"
            for name, value in (
                ("scheme", self.scheme),
                ("agent", self.agent),
                ("decision", self.decision),
                ("error", self.error),
                ("requirement", self.requirement),
            )
        )
        request = f'"{self.method} {self.path}"'
        return f"{self.client} {request} {self.status} {self.duration_ms:.1f}ms {outcome}"


def _decision(status: int, requirement: str | None) -> str:
    if status == 202:
        return "pending"
    if status < 400:
        return "allowed"
    if status == 401 and requirement is not None:
        return "challenged"
    return "failed" if status >= 500 else "refused"


class _Response:
    """What the access log keeps of a response as it passes: status, two headers, and the
    ``error`` member of a small problem+json body."""

    def __init__(self) -> None:
        self.status = 0
        self.error: str | None = None
        self.requirement: str | None = None
        self.challenged_agent: str | None = None
        self._problem: bytearray | None = None

    def start(self, message: Message) -> None:
        self.status = int(message["status"])
        for name, value in message.get("headers", ()):
            if name == b"signature-error":
                self._param(value, "error")
            elif name == b"aauth-requirement":
                self._param(value, "requirement")
                self._challenged_agent(value)
            elif name == b"content-type" and value.startswith(b"application/problem+json"):
                self._problem = bytearray()

    def _param(self, value: bytes, wanted: str) -> None:
        for name, found in _PARAM.findall(value.decode("latin-1")):
            if name == wanted and getattr(self, wanted) is None:
                setattr(self, wanted, found)

    def _challenged_agent(self, value: bytes) -> None:
        """The agent a challenge's resource token names: this participant minted it for the
        agent it verified, so it names who was challenged (the token itself is not kept)."""
        match = _RESOURCE_TOKEN.search(value.decode("latin-1"))
        if match is None:
            return
        try:
            agent = peek(match.group(1))[1].get("agent")
        except Exception:  # a log line must never fail the response
            return
        if isinstance(agent, str) and len(agent) <= 300:
            self.challenged_agent = agent

    def body(self, message: Message) -> None:
        if self._problem is not None and len(self._problem) < _MAX_PROBLEM:
            self._problem += message.get("body", b"")[: _MAX_PROBLEM - len(self._problem)]

    def problem_error(self) -> str | None:
        if self.error is not None or not self._problem:
            return self.error
        try:
            error = json.loads(self._problem).get("error")
        except (ValueError, AttributeError):
            return None
        return error if isinstance(error, str) and _CODE.fullmatch(error) else None


def _scheme(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"signature-key":
            match = _SCHEME.match(value)
            return match.group(1).decode("ascii") if match else "?"
    return None


class AccessLog:
    """ASGI middleware writing one :class:`AccessRecord` per HTTP request to ``logger``
    (``aauth.access`` at INFO, the record in ``extra={"access": …}``)."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        response = _Response()

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.start(message)
            elif message["type"] == "http.response.body":
                response.body(message)
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self._log(scope, response, time.perf_counter() - started)

    def _log(self, scope: Scope, response: _Response, elapsed: float) -> None:
        caller = caller_from_scope(scope)
        client = scope.get("client")
        status = response.status or 500  # nothing sent: the app failed
        record = AccessRecord(
            client=client[0] if client else "-",
            method=scope["method"],
            path=scope.get("path", ""),
            status=status,
            duration_ms=round(elapsed * 1000, 1),
            scheme=_scheme(scope),
            agent=caller.agent_id if caller is not None else response.challenged_agent,
            decision=_decision(status, response.requirement),
            error=response.problem_error(),
            requirement=response.requirement,
        )
        self.logger.info(record.text(), extra={"access": record})


class TextAccessFormatter(logging.Formatter):
    """``TIME LEVEL message``: the access line as :meth:`AccessRecord.text` wrote it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")


class JsonAccessFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and for access lines every
    :class:`AccessRecord` member."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        access = getattr(record, "access", None)
        if isinstance(access, AccessRecord):
            document.update(asdict(access))
        else:
            document["message"] = record.getMessage()
        return json.dumps(document)


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for ``aauth serve``: uvicorn's and aauth's
    messages at ``level``, in ``text`` or ``json``, on stderr (uvicorn's own access log
    stays off: the AAuth one replaces it)."""
    formatter = JsonAccessFormatter if log_format == "json" else TextAccessFormatter
    handler = {"class": "logging.StreamHandler", "formatter": "aauth", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"aauth": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"default": handler},
        "loggers": {"uvicorn": logger, "uvicorn.error": {"level": level.upper()}, "aauth": logger},
    }
