"""The one exception hierarchy callers rely on, whatever the vendor.

Providers translate every vendor SDK exception into one of these (the SDK exception stays reachable as
`__cause__` for debugging, but its type never escapes). `retryable` says whether trying again later can help.

    LLMError
    ├── LLMConfigError (also a ValueError)   bad configuration or per-call argument
    ├── LLMAuthenticationError               401/403, or no API key
    ├── LLMRateLimitError                    429; `retry_after` seconds when the vendor says
    ├── LLMTimeoutError                      the request (or a stream between two chunks) took too long
    ├── LLMBadRequestError                   400/404/413/422: the vendor refused this request
    └── LLMProviderUnavailableError          5xx, overloaded, connection refused/reset
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping


class LLMError(Exception):
    """Base class of every error a provider raises."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id


class LLMConfigError(LLMError, ValueError):
    """A configuration value (or a per-call override) is out of range; the message names the field and what
    is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class LLMAuthenticationError(LLMError):
    """The vendor rejected the credentials (or there are none)."""


class LLMRateLimitError(LLMError):
    """Too many requests or tokens; `retry_after` is the wait in seconds the vendor asked for, if any."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code, request_id=request_id)
        self.retry_after = retry_after


class LLMTimeoutError(LLMError):
    """No answer (or no next stream chunk) within `timeout_seconds`, after the retries."""

    retryable = True


class LLMBadRequestError(LLMError):
    """The vendor refused the request as such (unknown model, context too long, invalid parameter)."""


class LLMProviderUnavailableError(LLMError):
    """The vendor is down, overloaded or unreachable, after the retries."""

    retryable = True


def error_for_status(
    status_code: int,
    message: str,
    *,
    provider: str,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> LLMError:
    """The LLMError subclass for an HTTP status code from a vendor."""
    if status_code == 429:
        return LLMRateLimitError(
            message, retry_after=retry_after, provider=provider, status_code=status_code, request_id=request_id
        )
    error_class: type[LLMError]
    if status_code in (401, 403):
        error_class = LLMAuthenticationError
    elif status_code == 408:
        error_class = LLMTimeoutError
    elif status_code >= 500 or status_code == 409:
        error_class = LLMProviderUnavailableError
    else:
        error_class = LLMBadRequestError
    return error_class(message, provider=provider, status_code=status_code, request_id=request_id)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait according to `retry-after-ms` or `retry-after` (seconds or an HTTP date), if present."""
    if not headers:
        return None
    if (value := headers.get("retry-after-ms")) is not None:
        try:
            milliseconds = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(milliseconds) and milliseconds >= 0:
                return milliseconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
