"""An OpenAI-compatible chat-completions client for the generative mode: where it may connect,
one request with a short deadline, and the answer read into plain data or refused.

Where: HTTPS to public addresses; loopback and private networks (and plain HTTP to them) only
when the operator allows it (RAPPORT_ASSISTANT_ALLOW_PRIVATE_ENDPOINTS: a model server such
as Ollama on the same host); link-local (cloud metadata), multicast, reserved and unspecified
addresses never. The host is resolved and every address checked just before connecting to the
checked address itself (no second lookup), with no proxy from the environment and no redirect
followed. Errors name what went wrong, never the key, the prompt or the answer."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from rapport.config import get_settings
from rapport.core import addresses
from rapport.core.addresses import Target

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_ANSWER_BYTES = 256 * 1024
COMPLETIONS_PATH = "/chat/completions"
USER_AGENT = "Rapport-Assistant/1"
# Sampling settings sent when the model takes them. Some refuse one (OpenAI's reasoning models
# answer 400 naming `max_tokens` or `temperature`): the request is sent again without it, and
# later requests to that endpoint and model leave it out (remembered by this process).
SAMPLING = {"temperature": 0.2, "max_tokens": 400}
MAX_REMEMBERED_MODELS = 1000


class EndpointRefused(ValueError):
    """The endpoint's URL or address may not be used; the message says why (for people)."""


class ModelFailed(Exception):
    """The model did not answer usefully: down, slow, an error status or an unreadable body.
    The message is short and safe to log (no key, prompt or answer)."""


# Whether this process lets workspaces reach private addresses (tests set it).
endpoint_policy = addresses.PrivatePolicy(lambda: get_settings().assistant_allow_private_endpoints)


def check_base_url(url: str, allow_private: bool) -> SplitResult:
    """Refuse a base URL that can never be used (when it is saved; no network)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EndpointRefused("The base URL cannot be parsed.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointRefused("The base URL is https://host/path.")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("Put the API key in its own field, not in the URL.")
    if parts.query or parts.fragment:
        raise EndpointRefused("The base URL takes no query or fragment.")
    if port == 0:
        raise EndpointRefused("Port 0 is no port.")
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        _check_address(ipaddress.ip_address("127.0.0.1"), parts.scheme, allow_private)
    literal = addresses.literal(host)
    if literal is not None:
        _check_address(literal, parts.scheme, allow_private)
    elif parts.scheme == "http" and not allow_private:
        raise EndpointRefused("Public endpoints are reached over HTTPS only (the key is sent).")
    return parts


def _plain(address: IpAddress) -> IpAddress:
    """Return the IPv4 address an IPv6 one carries (mapped, 6to4), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _check_address(address: IpAddress, scheme: str, allow_private: bool) -> None:
    # The judgement is rapport.core.addresses' (shared with IMAP): an IPv6 address carrying
    # an IPv4 one (mapped, 6to4, NAT64) is judged by the address it reaches.
    judged = addresses.reach(address)
    if judged is addresses.Reach.never:
        raise EndpointRefused(
            f"The assistant never connects to {addresses.carried(address)} (reserved)."
        )
    if judged is addresses.Reach.public:
        if scheme != "https":
            raise EndpointRefused("Public endpoints are reached over HTTPS only.")
        return
    if not allow_private:
        raise EndpointRefused(
            f"Private and loopback addresses ({addresses.carried(address)}) need the "
            "operator's RAPPORT_ASSISTANT_ALLOW_PRIVATE_ENDPOINTS."
        )


async def resolve(base_url: str, allow_private: bool) -> Target:
    """Resolve the endpoint's host and return its completions target, every address allowed."""
    parts = check_base_url(base_url, allow_private)
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError):
        raise EndpointRefused("The host name does not resolve.") from None
    resolved = [ipaddress.ip_address(info[4][0]) for info in found]
    if not resolved:
        raise EndpointRefused("The host name does not resolve.")
    for address in resolved:
        _check_address(address, parts.scheme, allow_private)
    path = parts.path.rstrip("/")
    if not path.endswith(COMPLETIONS_PATH):
        path += COMPLETIONS_PATH
    return Target(_plain(resolved[0]), parts.scheme, host, port, path)


@dataclass(frozen=True)
class Endpoint:
    """One workspace's model: where, which, its key (opened just for the request), how long."""

    base_url: str
    model: str
    api_key: str | None = field(repr=False)
    timeout: float


@dataclass(frozen=True)
class ToolCall:
    """A function the model asks to call, with its arguments (a JSON object, parsed)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """The model's answer: text, tool calls, or both."""

    text: str | None
    tool_calls: list[ToolCall]


async def complete(
    endpoint: Endpoint,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    allow_private: bool,
) -> Completion:
    """Ask the model (once, or again without a sampling setting it refused, within the same
    deadline); raise ModelFailed for anything but a well-formed answer in time."""
    model = _model_key(endpoint)
    try:
        async with asyncio.timeout(endpoint.timeout):
            while True:
                refused = _refused.get(model, frozenset())
                sampling = {name: value for name, value in SAMPLING.items() if name not in refused}
                body = json.dumps(
                    {
                        "model": endpoint.model,
                        "messages": messages,
                        "tools": tools,
                        "tool_choice": "auto",
                        **sampling,
                        "stream": False,
                    }
                ).encode()
                status, raw = await _post(endpoint, body, allow_private)
                unwanted = _refused_setting(status, raw)
                if unwanted is None or unwanted not in sampling:
                    break
                _remember_refusal(model, refused | {unwanted})
    except EndpointRefused as refused_endpoint:
        raise ModelFailed(f"endpoint refused: {refused_endpoint}") from None
    except TimeoutError:
        raise ModelFailed("timed out") from None
    except httpx.HTTPError as error:
        raise ModelFailed(f"connection failed: {type(error).__name__}") from None
    if not 200 <= status < 300:
        raise ModelFailed(f"HTTP {status}")
    return read_completion(raw)


# The sampling settings each endpoint, model and key refused, in this process.
_refused: dict[tuple[str, str, str], frozenset[str]] = {}


def _model_key(endpoint: Endpoint) -> tuple[str, str, str]:
    """Return what a refusal is remembered by: the endpoint, the model and a digest of the key
    (a gateway may route two workspaces' keys to different models under one name)."""
    key = hashlib.sha256((endpoint.api_key or "").encode()).hexdigest()
    return endpoint.base_url, endpoint.model, key


def _remember_refusal(model: tuple[str, str, str], refused: frozenset[str]) -> None:
    if model not in _refused and len(_refused) >= MAX_REMEMBERED_MODELS:
        _refused.clear()  # a bound, not a cache policy: relearning costs one request
    _refused[model] = refused


def _refused_setting(status: int, raw: bytes) -> str | None:
    """Return the sampling setting a 400 answer says the model does not take, if it says so
    in OpenAI's error format (`{"error": {"param": "max_tokens", ...}}`)."""
    if status != 400:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    error = data.get("error") if isinstance(data, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    return param if isinstance(param, str) and param in SAMPLING else None


@functools.cache
def _tls() -> ssl.SSLContext:
    """Return the process's TLS context (verifying), built once: building one per client
    reads the CA bundle, which took 140 ms on the shared development machine."""
    return httpx.create_ssl_context()


async def _post(endpoint: Endpoint, body: bytes, allow_private: bool) -> tuple[int, bytes]:
    target = await resolve(endpoint.base_url, allow_private)
    headers = {
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
    }
    if endpoint.api_key:
        headers["authorization"] = f"Bearer {endpoint.api_key}"
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with (
        httpx.AsyncClient(
            timeout=endpoint.timeout, follow_redirects=False, trust_env=False, verify=_tls()
        ) as client,
        client.stream(
            "POST", target.connect_url, content=body, headers=headers, extensions=extensions
        ) as answer,
    ):
        kept = bytearray()
        async for chunk in answer.aiter_bytes():
            kept.extend(chunk)
            if len(kept) > MAX_ANSWER_BYTES:
                raise ModelFailed("answer too large")
    return answer.status_code, bytes(kept)


def read_completion(raw: bytes) -> Completion:
    """Read a chat-completions answer (first choice); raise ModelFailed if it is not one."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ModelFailed("invalid JSON") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelFailed("no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ModelFailed("no message")
    text = message.get("content")
    if text is not None and not isinstance(text, str):
        raise ModelFailed("content is not text")
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ModelFailed("tool_calls is not a list")
    return Completion(text, [_tool_call(call) for call in calls])


def _tool_call(call: Any) -> ToolCall:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ModelFailed("a tool call without a function name")
    arguments = function.get("arguments") or "{}"
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            raise ModelFailed("tool arguments are not JSON") from None
    if not isinstance(arguments, dict):
        raise ModelFailed("tool arguments are not an object")
    return ToolCall(function["name"], arguments)
