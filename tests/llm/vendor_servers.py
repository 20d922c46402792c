"""Fake OpenAI and Anthropic servers for tests: real HTTP on 127.0.0.1 speaking each vendor's wire format
(JSON bodies, server-sent-event streams, error bodies, retry headers), so the official SDKs run for real —
their HTTP, retry, timeout and streaming code included.

Fixtures (tests/llm/conftest.py): `openai_server`, `anthropic_server` — a fresh server per test.

    async def test_it_sends_the_system_prompt(openai_server):
        openai_server.queue(Reply(text="Hello"))
        async with create_llm_provider(openai_server.llm_config()) as provider:
            response = await provider.generate("Hi", system="Be brief")
        assert response.content == "Hello"
        assert openai_server.last_request.json["messages"][0] == {"role": "system", "content": "Be brief"}

Scripting: `server.queue(reply, …)` answers the next completion requests in order; when the queue is empty,
`server.default_reply` answers (a short text). A `Reply` says what to send — text, tool calls, usage, finish
reason — or how to misbehave: `Reply.error(500)`, `Reply.rate_limited(retry_after=0.05)`,
`Reply.hang(seconds)`, `Reply(..., chunk_delay_seconds=0.05)` (a slow stream), `hang_after_chunks=n`,
`error_after_chunks=n` (a failure inside a 200 stream), `Reply.garbage(body)` (a body that is not the vendor's
format, e.g. a proxy's HTML page), `garbage_after_chunks=n` (a malformed server-sent event mid-stream),
`Reply.dropped()` (the connection closed with no answer), `drop_after_chunks=n` (closed mid-stream). Whether a
reply is sent as JSON or as SSE follows the request's `"stream": true`, as the real APIs do.

The servers check the API key (`server.api_key`, FAKE_API_KEY unless changed; None accepts anything) and
answer 401 in the vendor's format otherwise. Error replies for 408/409/429/5xx carry `retry-after-ms:
server.retry_after_ms` (5) unless they set a retry header, so the SDKs' backoff stays in milliseconds.
`server.llm_config(**overrides)` is an LLMConfig pointing at the server with the right key, a 2 s timeout
and 2 retries. Every request is recorded (`server.requests`, `server.completion_requests`,
`server.last_request`): method, path, lower-cased headers, body (`.json`), and how it ended (`.outcome`).

Elsewhere in the test suite:

    from tests.llm.vendor_servers import FakeOpenAIServer

    @pytest.fixture
    def openai_server():
        with FakeOpenAIServer() as server:
            yield server
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from llm.providers import LLMConfig

FAKE_API_KEY = "sk-fake-test-key-0123456789"
_ids = itertools.count(1)


def _count_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _words(text: str) -> list[str]:
    words: list[str] = []
    for word in text.split(" "):
        if words:
            words[-1] += " "
        words.append(word)
    return [word for word in words if word]


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: f"call_fake_{next(_ids)}")


@dataclass
class Reply:
    """One scripted answer to a completion request."""

    text: str = "Hello from the fake server."
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    """In the vendor's vocabulary; None: `stop`/`end_turn`, or the tool-call reason when there are tool calls."""
    model: str | None = None
    """The model the answer reports; None echoes the request's."""
    prompt_tokens: int | None = None
    """All input tokens, cache included (None: estimated from the request)."""
    completion_tokens: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    usage: dict[str, Any] | None = None
    """A usage object in the vendor's format, sent as is (overrides the token fields)."""
    send_usage: bool = True
    """OpenAI: False leaves usage out (as some OpenAI-compatible servers do, even when asked)."""
    status: int = 200
    error_type: str | None = None
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    """Wait before answering (a `hang` when longer than the client's timeout)."""
    chunk_delay_seconds: float = 0.0
    hang_after_chunks: int | None = None
    """Streams: send this many text chunks, then go silent (and finally drop the connection)."""
    error_after_chunks: int | None = None
    """Streams: send this many text chunks, then the vendor's in-stream error event."""
    raw_body: bytes | None = None
    """Send these bytes as the body (with `status` and `raw_content_type`) instead of the vendor's format."""
    raw_content_type: str = "text/html; charset=utf-8"
    drop: bool = False
    """Close the connection without answering."""
    garbage_after_chunks: int | None = None
    """Streams: send this many text chunks, then an event whose data is not JSON, then end the stream."""
    drop_after_chunks: int | None = None
    """Streams: send this many text chunks, then close the connection in the middle of the stream."""

    @classmethod
    def error(cls, status: int, message: str | None = None, **kwargs: Any) -> Reply:
        return cls(status=status, error_message=message, **kwargs)

    @classmethod
    def rate_limited(cls, retry_after: float = 0.01, **kwargs: Any) -> Reply:
        """429 with `retry-after` in seconds (a float, which both SDKs accept)."""
        return cls(status=429, headers={"retry-after": f"{retry_after:g}"}, **kwargs)

    @classmethod
    def hang(cls, seconds: float = 5.0, **kwargs: Any) -> Reply:
        return cls(delay_seconds=seconds, **kwargs)

    @classmethod
    def garbage(
        cls, body: bytes = b"<html><body>502 Bad Gateway</body></html>", *, status: int = 200, **kwargs: Any
    ) -> Reply:
        return cls(raw_body=body, status=status, **kwargs)

    @classmethod
    def dropped(cls, **kwargs: Any) -> Reply:
        return cls(drop=True, **kwargs)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    outcome: str = "pending"
    """`answered`, `client_disconnected` (e.g. a stream closed early), `hung`, `garbage` or `dropped`."""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _StopStream(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        fake = self.server.fake
        fake._record(request)
        try:
            fake._respond(self, request)
            if request.outcome == "pending":
                request.outcome = "answered"
        except (BrokenPipeError, ConnectionResetError, _StopStream):
            request.outcome = "client_disconnected" if request.outcome == "pending" else request.outcome
            self.close_connection = True

    # Writing

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def send_event(self, data: str, event: str | None = None) -> None:
        text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
        payload = text.encode()
        self.wfile.write(f"{len(payload):X}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def send_raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def drop_connection(self) -> None:
        """Close the socket at once: the client sees the connection end in the middle of things."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeVendorServer


class FakeVendorServer:
    """Common machinery; see FakeOpenAIServer and FakeAnthropicServer."""

    provider_name: ClassVar[str]
    completion_path: ClassVar[str]
    default_model: ClassVar[str]
    garbage_event: ClassVar[str | None] = None
    """The event name a malformed event (`garbage_after_chunks`) carries."""

    def __init__(self, *, api_key: str | None = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.retry_after_ms: int | None = 5
        self.default_reply = Reply()
        self.models: list[str] = [self.default_model]
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> Self:
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """What to give the SDK (and LLMConfig.base_url)."""
        return self.url

    def llm_config(self, **overrides: Any) -> LLMConfig:
        values: dict[str, Any] = {
            "provider": self.provider_name,
            "model": self.default_model,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout_seconds": 2.0,
            "max_retries": 2,
        }
        return LLMConfig(**(values | overrides))

    # Scripting and inspection

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == self.completion_path]

    @property
    def last_request(self) -> RecordedRequest:
        return self.completion_requests[-1]

    def wait_for_outcome(self, request: RecordedRequest, timeout: float = 2.0) -> str:
        """The request's outcome once the handler is done with it (streams finish after the client does)."""
        deadline = time.monotonic() + timeout
        while request.outcome == "pending" and time.monotonic() < deadline:
            time.sleep(0.01)
        return request.outcome

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default_reply

    # Answering

    def _respond(self, handler: _Handler, request: RecordedRequest) -> None:
        if not self._authorized(request):
            handler.send_json(401, *self._error_body(401, None, None, request))
            return
        if request.method == "GET" and request.path == self.models_path:
            handler.send_json(200, self._models_body())
            return
        if request.method != "POST" or request.path != self.completion_path:
            handler.send_json(404, *self._error_body(404, None, f"Unknown path {request.path}", request))
            return
        reply = self._refusal(request) or self._next_reply()
        if reply.delay_seconds and self._stop.wait(reply.delay_seconds):
            request.outcome = "hung"
            return
        if reply.drop:
            request.outcome = "dropped"
            handler.drop_connection()
            return
        if reply.raw_body is not None:
            request.outcome = "garbage"
            handler.send_raw(reply.status, reply.raw_body, reply.raw_content_type)
            return
        if reply.status >= 400:
            body, headers = self._error_body(reply.status, reply.error_type, reply.error_message, request)
            headers |= reply.headers
            retry_status = reply.status in (408, 409, 429) or reply.status >= 500
            has_retry_header = any(name.lower().startswith("retry-after") for name in headers)
            if retry_status and not has_retry_header and self.retry_after_ms is not None:
                headers["retry-after-ms"] = str(self.retry_after_ms)
            handler.send_json(reply.status, body, headers)
            return
        payload = request.json or {}
        if payload.get("stream"):
            handler.start_sse(self._response_headers() | reply.headers)
            self._write_stream(handler, reply, payload, request)
            handler.end_sse()
        else:
            handler.send_json(200, self._message_body(reply, payload), self._response_headers() | reply.headers)

    def _chunk_pause(self, handler: _Handler, reply: Reply, sent: int, request: RecordedRequest) -> None:
        """Between text chunks: the scripted delay, hang or failure."""
        if reply.hang_after_chunks is not None and sent >= reply.hang_after_chunks:
            self._stop.wait(30)
            request.outcome = "hung"
            raise _StopStream
        if reply.garbage_after_chunks is not None and sent >= reply.garbage_after_chunks:
            request.outcome = "garbage"
            handler.send_event('{"choices": [{"delta": {"content": "trunc', event=self.garbage_event)
            handler.end_sse()
            raise _StopStream
        if reply.drop_after_chunks is not None and sent >= reply.drop_after_chunks:
            request.outcome = "dropped"
            handler.drop_connection()
            raise _StopStream
        if reply.chunk_delay_seconds:
            time.sleep(reply.chunk_delay_seconds)

    def _usage_numbers(self, reply: Reply, payload: dict[str, Any]) -> tuple[int, int]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = _count_tokens(json.dumps(payload.get("messages", [])) + str(payload.get("system", "")))
        completion = reply.completion_tokens
        if completion is None:
            completion = _count_tokens(reply.text + "".join(json.dumps(call.arguments) for call in reply.tool_calls))
        return prompt, completion

    def _response_headers(self) -> dict[str, str]:
        return {}

    def _refusal(self, request: RecordedRequest) -> Reply | None:
        """An error the real API gives to this request whatever the script says, if any."""
        return None

    # Vendor specifics
    models_path: ClassVar[str]

    def _authorized(self, request: RecordedRequest) -> bool:
        raise NotImplementedError

    def _error_body(
        self, status: int, error_type: str | None, message: str | None, request: RecordedRequest
    ) -> tuple[dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def _models_body(self) -> dict[str, Any]:
        raise NotImplementedError

    def _message_body(self, reply: Reply, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _write_stream(self, handler: _Handler, reply: Reply, payload: dict[str, Any], request: RecordedRequest) -> None:
        raise NotImplementedError


class FakeOpenAIServer(FakeVendorServer):
    """OpenAI's chat completions API: POST /v1/chat/completions (JSON or SSE ending in `data: [DONE]`, with a
    final usage chunk when `stream_options.include_usage`), GET /v1/models."""

    provider_name = "openai"
    completion_path = "/v1/chat/completions"
    models_path = "/v1/models"
    default_model = "gpt-4o-mini"

    _ERROR_TYPES: ClassVar[dict[int, tuple[str, str | None]]] = {
        400: ("invalid_request_error", None),
        401: ("invalid_request_error", "invalid_api_key"),
        403: ("invalid_request_error", "unsupported_country_region_territory"),
        404: ("invalid_request_error", "model_not_found"),
        429: ("requests", "rate_limit_exceeded"),
    }

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _authorized(self, request: RecordedRequest) -> bool:
        return self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _error_body(
        self, status: int, error_type: str | None, message: str | None, request: RecordedRequest
    ) -> tuple[dict[str, Any], dict[str, str]]:
        default_type, code = self._ERROR_TYPES.get(status, ("server_error", None))
        if message is None:
            message = {
                401: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                429: "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
            }.get(status, "The server had an error while processing your request. Sorry about that!")
        body = {"error": {"message": message, "type": error_type or default_type, "param": None, "code": code}}
        return body, {"x-request-id": f"req_fake_{next(_ids)}"}

    def _response_headers(self) -> dict[str, str]:
        return {"x-request-id": f"req_fake_{next(_ids)}", "openai-processing-ms": "1"}

    def _models_body(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": 1700000000, "owned_by": "system"} for model in self.models
            ],
        }

    def _finish_reason(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    def _usage(self, reply: Reply, payload: dict[str, Any]) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        prompt, completion = self._usage_numbers(reply, payload)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _message_body(self, reply: Reply, payload: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
        usage = {"usage": self._usage(reply, payload)} if reply.send_usage else {}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-fake{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or payload.get("model"),
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self._finish_reason(reply)}
            ],
        } | usage

    def _write_stream(self, handler: _Handler, reply: Reply, payload: dict[str, Any], request: RecordedRequest) -> None:
        include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
        base = {
            "id": f"chatcmpl-fake{next(_ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": reply.model or payload.get("model"),
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> None:
            body = base | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
            if include_usage:
                body["usage"] = None
            handler.send_event(json.dumps(body))

        chunk({"role": "assistant", "content": "", "refusal": None})
        for sent, word in enumerate(_words(reply.text)):
            if reply.error_after_chunks is not None and sent >= reply.error_after_chunks:
                error = {"message": reply.error_message or "The server had an error.", "type": "server_error"}
                handler.send_event(json.dumps({"error": error}))
                return
            self._chunk_pause(handler, reply, sent, request)
            chunk({"content": word})
        for index, call in enumerate(reply.tool_calls):
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            for piece in _pieces(json.dumps(call.arguments)):
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        chunk({}, self._finish_reason(reply))
        if include_usage and reply.send_usage:
            handler.send_event(json.dumps(base | {"choices": [], "usage": self._usage(reply, payload)}))
        handler.send_event("[DONE]")


class FakeAnthropicServer(FakeVendorServer):
    """Anthropic's Messages API: POST /v1/messages (JSON, or the SSE events message_start, content_block_start,
    ping, content_block_delta, content_block_stop, message_delta, message_stop), GET /v1/models."""

    provider_name = "anthropic"
    garbage_event = "content_block_delta"
    completion_path = "/v1/messages"
    models_path = "/v1/models"
    default_model = "claude-sonnet-5-5"

    _ERROR_TYPES: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }

    # Since API version 2026-10-21 the API refuses sampling parameters, even at their defaults.
    _SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")

    def _authorized(self, request: RecordedRequest) -> bool:
        # SDK 2.x sends `Authorization: Bearer`; older clients `x-api-key` (which wins when both are present).
        if self.api_key is None:
            return True
        if "x-api-key" in request.headers:
            return request.headers["x-api-key"] == self.api_key
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _refusal(self, request: RecordedRequest) -> Reply | None:
        payload = request.json or {}
        if request.headers.get("anthropic-version", "") >= "2026-10-21":
            for name in self._SAMPLING_PARAMETERS:
                if name in payload:
                    return Reply.error(400, f"{name}: Extra inputs are not permitted")
        if "max_tokens" not in payload:
            return Reply.error(400, "max_tokens: Field required")
        return None

    def _error_body(
        self, status: int, error_type: str | None, message: str | None, request: RecordedRequest
    ) -> tuple[dict[str, Any], dict[str, str]]:
        error_type = error_type or self._ERROR_TYPES.get(status, "api_error")
        request_id = f"req_fake{next(_ids)}"
        default_message = {401: "invalid x-api-key", 429: "Number of request tokens has exceeded your rate limit."}
        message = message or default_message.get(status, "Internal server error")
        body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
        return body, {"request-id": request_id}

    def _response_headers(self) -> dict[str, str]:
        return {"request-id": f"req_fake{next(_ids)}"}

    def _models_body(self) -> dict[str, Any]:
        data = [
            {"type": "model", "id": model, "display_name": model, "created_at": "2025-09-29T00:00:00Z"}
            for model in self.models
        ]
        return {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]}

    def _stop_reason(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def _usage(self, reply: Reply, payload: dict[str, Any], *, output_tokens: int | None = None) -> dict[str, Any]:
        if reply.usage is not None:
            return reply.usage
        prompt, completion = self._usage_numbers(reply, payload)
        return {
            "input_tokens": prompt - reply.cache_read_tokens - reply.cache_write_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
            "output_tokens": completion if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }

    def _message_body(self, reply: Reply, payload: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        content += [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments} for call in reply.tool_calls
        ]
        return {
            "id": f"msg_fake{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": reply.model or payload.get("model"),
            "content": content,
            "stop_reason": self._stop_reason(reply),
            "stop_sequence": None,
            "usage": self._usage(reply, payload),
        }

    def _write_stream(self, handler: _Handler, reply: Reply, payload: dict[str, Any], request: RecordedRequest) -> None:
        def send(event: str, data: dict[str, Any]) -> None:
            handler.send_event(json.dumps({"type": event} | data), event=event)

        message = self._message_body(reply, payload) | {"content": [], "stop_reason": None}
        message["usage"] = self._usage(reply, payload, output_tokens=1)
        send("message_start", {"message": message})
        index = 0
        if reply.text:
            send("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            send("ping", {})
            for sent, word in enumerate(_words(reply.text)):
                if reply.error_after_chunks is not None and sent >= reply.error_after_chunks:
                    error = {
                        "type": reply.error_type or "overloaded_error",
                        "message": reply.error_message or "Overloaded",
                    }
                    send("error", {"error": error})
                    return
                self._chunk_pause(handler, reply, sent, request)
                send("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": word}})
            send("content_block_stop", {"index": index})
            index += 1
        for call in reply.tool_calls:
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
            send("content_block_start", {"index": index, "content_block": block})
            for piece in _pieces(json.dumps(call.arguments)):
                send(
                    "content_block_delta",
                    {"index": index, "delta": {"type": "input_json_delta", "partial_json": piece}},
                )
            send("content_block_stop", {"index": index})
            index += 1
        usage = self._usage(reply, payload)
        final_usage = {key: usage[key] for key in ("output_tokens",) if key in usage} if reply.usage is None else usage
        send(
            "message_delta",
            {"delta": {"stop_reason": self._stop_reason(reply), "stop_sequence": None}, "usage": final_usage},
        )
        send("message_stop", {})
