"""Typed errors for Imbi API calls.

The seed's helpers return the raw `httpx.Response`; a caller who wants an
exception asks for one explicitly with `raise_for_status`. The newer helpers
(`find_release`, `ensure_release`, `deploy`), the bulk runner and the plugin
layer raise these errors themselves.

Every error carries the request's method and a URL without credentials, and
renders in one line: `str()` for logs and terminals, `_render_traceback_`
for IPython, which then shows that line instead of a deep traceback.

Examples:
    >>> response = await client.patch_project('eng', project_id, patch)
    >>> errors.raise_for_status(response)  # raises ConflictError on 409
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import json
import time
import typing
from collections import abc

import httpx

from imbi_toolkit.api import _redaction as redaction
from imbi_toolkit.errors import ToolkitError

#: The server's explanation: FastAPI's string, its list of validation errors,
#: an object with an `error` code (API 2.31+, docs/imbi-api.md#errors), or
#: `None` when the body had none.
Detail: typing.TypeAlias = str | list[typing.Any] | dict[str, typing.Any] | None

# Longest server text kept in an error (a 500 page can be large).
_MAX_DETAIL_CHARS = 500


def safe_url(url: httpx.URL | str) -> str:
    """Return ``url`` as text without userinfo, secret query values or tokens."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    with contextlib.suppress(Exception):  # an odd URL still gets text-redacted
        parsed = parsed.copy_with(username=None, password=None)
    return redaction.redact(str(parsed))


class ImbiError(ToolkitError):
    """Base class of the errors raised for Imbi API calls.

    Attributes:
        method: The HTTP method of the failed request (empty when unknown).
        url: The request URL without credentials (empty when unknown).
    """

    def __init__(self, message: str, *, method: str = '', url: str = '') -> None:
        self.message = redaction.redact(message)
        self.method = method
        self.url = url
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of the traceback: the error is
        # about the API call, not about the toolkit's internals.
        return [f'{type(self).__name__}: {self}']

    def __reduce__(self) -> tuple[typing.Any, ...]:
        # Pickling an exception calls `cls(*args)` on load, which these
        # constructors refuse (TypeError), and copies `__dict__`, where a
        # response holds its request's headers: the token. A pickle (a
        # process pool's result, a cache) keeps the redacted text and the
        # plain attributes; the response is None once unpickled.
        return (_restore, (type(self), self.message), _picklable_state(self))


def _restore(cls: type[ImbiError], message: str) -> ImbiError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message = message
    return error


def _picklable_state(error: BaseException) -> dict[str, typing.Any]:
    return {name: _picklable(value) for name, value in vars(error).items()}


def _picklable(value: typing.Any) -> typing.Any:
    """``value`` without httpx objects (which hold headers) or raw secrets."""
    if isinstance(value, httpx.Response | httpx.Request | httpx.Headers):
        return None
    if isinstance(value, str):
        return redaction.redact(value)
    if isinstance(value, list):
        return [_picklable(item) for item in value]
    if isinstance(value, dict):
        return {key: _picklable(item) for key, item in value.items()}
    return value


class ImbiTransportError(ImbiError):
    """The request got no HTTP response.

    Attributes:
        sent: `False` when the request certainly never reached the server
            (connection refused, connect or pool timeout); `None` when it
            may have been received and acted upon.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = '',
        url: str = '',
        sent: bool | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.sent = sent


class ImbiConnectionError(ImbiTransportError):
    """The connection could not be made, or broke before a response arrived."""


class ImbiTimeoutError(ImbiTransportError):
    """A connect, write, read or pool timeout expired."""


class ReleaseNotFoundError(ImbiError, LookupError):
    """No release of the project matches the given tag or committish."""


class ProjectNotFoundError(ImbiError, LookupError):
    """No project of the organization has the given id or slug."""


class ReleaseMismatchError(ImbiError):
    """The release the server has under a tag is of another commit.

    Raised instead of returning that release as if it were the one asked
    for: a tag names one commit, so the caller's committish or tag is wrong.

    Attributes:
        release: The existing release (with its `id` and `committish`).
    """

    def __init__(self, message: str, *, release: dict[str, typing.Any]) -> None:
        super().__init__(message)
        self.release = release


class UnexpectedResponseError(ImbiError):
    """A successful status whose body is not what the API sends.

    A proxy's login page answered with 200, say. The message names the
    request, the status and the content type instead of a decoder error.

    Attributes:
        status: The HTTP status code.
        content_type: The response's `Content-Type` (empty when absent).
    """

    def __init__(
        self, message: str, *, method: str, url: str, status: int, content_type: str
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.content_type = content_type


class ImbiStatusError(ImbiError):
    """The server answered with a status that is not 2xx.

    Attributes:
        status: The HTTP status code.
        detail: The server's explanation: the `detail` of FastAPI's error
            body (a string, or a list of validation errors), the `error` of a
            429, or the text of a plain-text body. `None` when empty.
        request_id: The `x-request-id` response header, when present.
        response: The `httpx.Response` (left out of `repr` and `str`);
            `None` after a pickle round trip, which keeps no response (its
            request carries the token) and redacts `detail`.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        method: str,
        url: str,
        detail: Detail,
    ) -> None:
        self.status = response.status_code
        self.detail = detail
        self.request_id = response.headers.get('x-request-id')
        self.response = response
        super().__init__(
            _status_message(self.status, method, url, detail), method=method, url=url
        )

    def __repr__(self) -> str:
        return f'{type(self).__name__}(status={self.status}, url={self.url!r})'

    @property
    def detail_text(self) -> str:
        """The detail as one line of text (validation errors joined by `; `)."""
        return render_detail(self.detail)


class UnexpectedRedirectError(ImbiStatusError):
    """A 3xx: the path was not exact (missing or extra `/`) or the API moved.

    The redirect is not followed, so the token never goes to another host.

    Attributes:
        location: The `Location` header, without credentials.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        method: str,
        url: str,
        detail: Detail,
    ) -> None:
        location = response.headers.get('location')
        self.location = safe_url(location) if location else None
        if detail is None and self.location:
            detail = f'redirected to {self.location} (not followed; check the path)'
        super().__init__(response, method=method, url=url, detail=detail)


class BadRequestError(ImbiStatusError):
    """400: the request was understood but refused (e.g. an invalid patch)."""


class AuthenticationError(ImbiStatusError):
    """401: the token is missing, malformed, expired or revoked."""


class PermissionDeniedError(ImbiStatusError):
    """403: the token is valid but lacks the permission."""


class NotFoundError(ImbiStatusError):
    """404: the organization, project, release or edge does not exist."""


class ConflictError(ImbiStatusError):
    """409: the resource already exists or a unique key is taken."""


class UnprocessableEntityError(ImbiStatusError):
    """422: validation failed, a patch `test` op failed, or a reference is unknown."""

    @property
    def test_failed(self) -> bool:
        """Whether a JSON Patch `test` operation failed (a concurrent change)."""
        return isinstance(self.detail, str) and self.detail.startswith(
            'Patch test operation failed'
        )


class RateLimitedError(ImbiStatusError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds to wait from the `Retry-After` header, if any.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        method: str,
        url: str,
        detail: Detail,
    ) -> None:
        self.retry_after = parse_retry_after(response.headers.get('retry-after'))
        super().__init__(response, method=method, url=url, detail=detail)


class ServerError(ImbiStatusError):
    """5xx: the server (or a proxy in front of it) failed."""


_BY_STATUS: dict[int, type[ImbiStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[ImbiStatusError]:
    """Return the error class for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if 300 <= status < 400:
        return UnexpectedRedirectError
    return ImbiStatusError


def parse_retry_after(value: str | None) -> float | None:
    """Parse a `Retry-After` header (seconds or an HTTP date) into seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def parse_detail(response: httpx.Response) -> Detail:
    """Extract the server's explanation from an error response.

    FastAPI sends `{"detail": "..."}` or `{"detail": [...]}`; from API 2.31
    some errors send `{"detail": {"error": "app_not_installed", ...}}`, kept
    as a dict; the rate limiter sends `{"error": "..."}`; an unhandled error
    is plain text.
    """
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return None
    if not content:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        text = response.text.strip()
        if len(text) > _MAX_DETAIL_CHARS:
            text = text[:_MAX_DETAIL_CHARS] + '…'
        return text or None
    if isinstance(body, dict):
        for key in ('detail', 'error', 'message'):
            value = body.get(key)
            if isinstance(value, str | list):
                return value
            if key == 'detail' and isinstance(value, dict):
                return value
    return _truncate(json.dumps(body))


def _truncate(text: str) -> str:
    if len(text) > _MAX_DETAIL_CHARS:
        return text[:_MAX_DETAIL_CHARS] + '…'
    return text


def render_detail(detail: Detail) -> str:
    """Render a detail as one line.

    FastAPI validation errors become `loc: msg (type)`; an object detail
    becomes `message (error) [other=values]`.
    """
    if detail is None:
        return ''
    if isinstance(detail, str):
        return redaction.redact(detail)
    if isinstance(detail, dict):
        # {"error": code, "message": text, ...}: the text, the code, the rest.
        rest = ', '.join(
            f'{key}={value}'
            for key, value in detail.items()
            if key not in ('error', 'message')
        )
        text = str(detail.get('message') or '')
        code = detail.get('error')
        if code:
            text = f'{text} ({code})' if text else str(code)
        if rest:
            text = f'{text} [{rest}]' if text else rest
        return redaction.redact(_truncate(text))
    parts = []
    for item in detail:
        if isinstance(item, abc.Mapping):
            loc = '.'.join(str(part) for part in item.get('loc', ()))
            msg = item.get('msg', '')
            kind = item.get('type')
            text = f'{loc}: {msg}' if loc else str(msg)
            parts.append(f'{text} ({kind})' if kind else text)
        else:
            parts.append(str(item))
    return redaction.redact(_truncate('; '.join(parts)))


def _status_message(status: int, method: str, url: str, detail: Detail) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ''
    head = f'{status} {phrase}'.strip()
    where = f' from {method} {url}' if method else f' from {url}' if url else ''
    text = render_detail(detail)
    return f'{head}{where}: {text}' if text else f'{head}{where}'


def _request_of(
    response_or_error: httpx.Response | httpx.RequestError,
) -> tuple[str, str]:
    try:
        request = response_or_error.request
    except RuntimeError:  # a Response or error built without a request
        return '', ''
    return request.method, safe_url(request.url)


def from_response(response: httpx.Response) -> ImbiStatusError:
    """Build the typed error for a non-2xx response (without raising it)."""
    method, url = _request_of(response)
    return error_class(response.status_code)(
        response, method=method, url=url, detail=parse_detail(response)
    )


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Raise the typed error for a response that is not 2xx.

    Args:
        response: A response returned by the client or one of its helpers.

    Returns:
        The same response, when its status is 2xx, so calls can be chained.

    Raises:
        ImbiStatusError: The subclass matching the status (`NotFoundError`,
            `ConflictError`, `UnprocessableEntityError`, `RateLimitedError`,
            `ServerError`, `UnexpectedRedirectError`...).
    """
    if response.is_success:
        return response
    raise from_response(response)


_Body = typing.TypeVar('_Body', dict[str, typing.Any], list[typing.Any])


def json_body(response: httpx.Response, expected: type[_Body]) -> _Body:
    """Return a successful response's JSON, checked to be an object or a list.

    Args:
        response: A response returned by the client or one of its helpers.
        expected: `dict` for a JSON object, `list` for a JSON array.

    Returns:
        The decoded body.

    Raises:
        ImbiStatusError: The typed error, when the status is not 2xx.
        UnexpectedResponseError: When the body is not JSON of the expected
            kind (a proxy's HTML page, say), naming the request, the status
            and the content type instead of a decoder error.
    """
    raise_for_status(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, expected):
        method, where = _request_of(response)
        kind = 'a JSON object' if expected is dict else 'a JSON array'
        content_type = response.headers.get('content-type', '')
        raise UnexpectedResponseError(
            f'{method} {where} answered {response.status_code} with '
            f'{content_type or "no content type"}, not {kind}: is the base URL '
            'the Imbi API (not a proxy or login page)?',
            method=method,
            url=where,
            status=response.status_code,
            content_type=content_type,
        )
    return data


# Errors raised before any byte of the request could reach the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def never_sent(exc: BaseException) -> bool:
    """Tell whether a transport error happened before the request was sent."""
    return isinstance(exc, _NEVER_SENT)


def from_transport_error(exc: httpx.TransportError) -> ImbiTransportError:
    """Build the typed error for an httpx transport error (without raising it)."""
    method, url = _request_of(exc)
    sent: bool | None = False if never_sent(exc) else None
    kind = type(exc).__name__
    reason = str(exc) or kind
    where = f'{method} {url}' if method else url or 'request'
    if isinstance(exc, httpx.TimeoutException):
        message = f'{where} timed out ({kind}: {reason})'
        return ImbiTimeoutError(message, method=method, url=url, sent=sent)
    message = f'{where} failed: {kind}: {reason}'
    if sent is None:
        message += ' (the server may have received the request)'
    return ImbiConnectionError(message, method=method, url=url, sent=sent)


@contextlib.contextmanager
def translate() -> abc.Iterator[None]:
    """Re-raise httpx transport errors inside the block as typed errors."""
    try:
        yield
    except httpx.TransportError as exc:
        raise from_transport_error(exc) from exc
