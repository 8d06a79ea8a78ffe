"""A local stand-in for GitHub's users API, for tests.

It serves `GET /users/{login}` on 127.0.0.1 (a real socket, in a thread), so
tests exercise the plugin's HTTP calls without the internet:

    with FakeGitHub({'octocat': 583231}) as github:
        plugin = GitHubPlugin(GitHubSettings(api_url=github.url))
"""

from __future__ import annotations

import http.server
import json
import threading
import types
import typing


class FakeGitHub:
    """Serve `GET /users/{login}` for the given logins and ids.

    Args:
        users: Login -> numeric user id. Unknown logins get 404.
        fail_with: When set, every request gets this status instead.

    Attributes:
        url: The base URL to configure as `IMBI_TOOLKIT_GITHUB_API_URL`.
        requests: `(path, headers)` of every request received.
    """

    def __init__(self, users: dict[str, int], *, fail_with: int | None = None) -> None:
        self.users = users
        self.fail_with = fail_with
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.url = ''
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeGitHub:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append((self.path, dict(self.headers.items())))
                status, body = fake._answer(self.path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('content-type', 'application/json')
                self.send_header('content-length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: typing.Any) -> None:
                pass  # keep test output clean

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        host, port = self._server.server_address[:2]
        self.url = f'http://{host!s}:{port}'
        # A short poll interval keeps `shutdown()` (one poll) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={'poll_interval': 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, path: str) -> tuple[int, object]:
        if self.fail_with is not None:
            return self.fail_with, {'message': 'Server Error'}
        prefix = '/users/'
        login = path[len(prefix) :] if path.startswith(prefix) else ''
        for known, user_id in self.users.items():
            if known.lower() == login.lower():  # GitHub logins ignore case
                return 200, {'login': known, 'id': user_id, 'type': 'User'}
        return 404, {'message': 'Not Found'}
