"""The HTTP side of the front door: ASGI body reading and answering, JSON bodies, query parameters."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from arclink import asgi
from arclink.arm.engine import Result
from arclink.arm.errors import ArmError, bad_request

MAX_BODY = 4 * 1024 * 1024
# JSON nested deeper than this is refused: ARM bodies need a dozen levels, and the recursive
# code that copies, encodes and validates bodies must never meet Python's recursion limit
MAX_DEPTH = 64
_enc = msgspec.json.Encoder()
_getrandbits = random.getrandbits
_V4_CLEAR = ~((0xF << 76) | (0x3 << 62))  # the version nibble and the variant bits
_V4_SET = (0x4 << 76) | (0x2 << 62)
_dec = msgspec.json.Decoder()

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def query_get(query: dict[str, str], name: str) -> str | None:
    """A query parameter, its name compared without case (as ARM does for api-version)."""
    if name in query:
        return query[name]
    for k, v in query.items():
        if k.lower() == name:
            return v
    return None


def only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed here; use {' or '.join(allowed)}.")


def method_not_allowed(method: str, rtype: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The method '{method}' is not supported for '{rtype}'.")


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than ``MAX_DEPTH``."""

    def __init__(self) -> None:
        super().__init__(f"the JSON is nested deeper than {MAX_DEPTH} levels")


def decode_json(body: bytes) -> Any:
    """The document in ``body``; raises msgspec.DecodeError, UnicodeDecodeError or JsonTooDeep."""
    try:
        doc = _dec.decode(body)
    except RecursionError:
        raise JsonTooDeep() from None
    # a document with few brackets cannot be deep: only walk the others
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        _check_depth(doc)
    return doc


def _check_depth(doc: Any) -> None:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonTooDeep()
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))


def json_object(body: bytes) -> dict[str, Any]:
    if not body or not body.strip():
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   "the body is empty; send a JSON object.")
    try:
        obj = decode_json(body)
    except (msgspec.DecodeError, UnicodeDecodeError, JsonTooDeep) as exc:
        raise bad_request("InvalidRequestContent", f"The request content was invalid and could not be deserialized: "
                                                   f"{exc}.") from None
    if not isinstance(obj, dict):
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                   f"expected a JSON object, got {type(obj).__name__}.")
    return obj


def location_of(body: bytes) -> str | None:
    """The body's location, if it has one, for the api-version error's wording (never refuses)."""
    if not body or b'"location"' not in body:
        return None
    try:
        obj = decode_json(body)
        return obj.get("location") if isinstance(obj, dict) and isinstance(obj.get("location"), str) else None
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError):
        return None


async def read_body(receive: Receive, headers: dict[str, str]) -> bytes:
    try:
        return await asgi.read_body(receive, MAX_BODY, headers.get("content-length"))
    except asgi.BodyTooLarge as exc:
        if exc.declared is not None:
            raise ArmError(413, "RequestEntityTooLarge", f"The request body is {exc.declared} bytes; the limit is "
                                                         f"{MAX_BODY} bytes (4 MB).") from None
        raise ArmError(413, "RequestEntityTooLarge", f"The request body is over the limit of {MAX_BODY} bytes "
                                                     "(4 MB).") from None


def request_id() -> bytes:
    """A random (version 4) GUID, as ARM's x-ms-request-id. It identifies a request in logs and
    guards nothing, so it comes from ``random`` rather than the system's entropy (a call per
    request, at a quarter of ``str(uuid.uuid4())``'s cost)."""
    h = "%032x" % (_getrandbits(128) & _V4_CLEAR | _V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()


async def send_result(send: Send, result: Result, head: bool = False) -> None:
    body = result.body
    if body is None:
        payload = b""
    elif isinstance(body, (bytes, bytearray)):
        payload = bytes(body)
    else:
        payload = _enc.encode(body)
    hdrs = [(b"x-ms-request-id", request_id())]
    if payload or result.status not in (202, 204):
        hdrs.append((b"content-type", b"application/json; charset=utf-8"))
    if result.status == 204 or head:
        payload = b""
    hdrs.append((b"content-length", str(len(payload)).encode()))
    for k, v in result.headers.items():
        hdrs.append((k.lower().encode(), str(v).encode()))
    await send({"type": "http.response.start", "status": result.status, "headers": hdrs})
    await send({"type": "http.response.body", "body": payload})
