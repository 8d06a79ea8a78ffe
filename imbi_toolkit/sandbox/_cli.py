"""``imbi-toolkit sandbox``: run a local Imbi API sandbox."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _seed as seed
from imbi_toolkit.sandbox import _versions as versions

_EPILOG = """\
On start it prints, one KEY=value a line, IMBI_CLIENT_API_BASE_URL,
IMBI_CLIENT_API_TOKEN (admin), IMBI_SANDBOX_READONLY_TOKEN and
IMBI_SANDBOX_API_VERSION, then serves until SIGINT or SIGTERM.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options to its subcommand parser."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        '--host', default='127.0.0.1', help='address to bind (default: %(default)s)'
    )
    parser.add_argument(
        '--port',
        type=int,
        default=8000,
        help='port to bind; 0 picks a free one (default: %(default)s)',
    )
    parser.add_argument(
        '--db',
        metavar='PATH',
        help='keep the data in this SQLite file (default: in memory)',
    )
    parser.add_argument(
        '--seed',
        choices=seed.SEEDS,
        default='demo',
        help='data for a new database (default: %(default)s)',
    )
    parser.add_argument(
        '--projects',
        type=int,
        metavar='N',
        help='with --seed demo: generate projects until the demo organisation '
        'has N (deterministic; e.g. 10000 for load tests)',
    )
    parser.add_argument(
        '--api-version',
        choices=tuple(sandbox_config.API_VERSIONS),
        default=versions.DEFAULT_LINE,
        help='API line to emulate (default: %(default)s)',
    )
    parser.add_argument(
        '--prefix',
        default='',
        metavar='PATH',
        help='mount the API under PATH (e.g. /api); /openapi.json stays at the root',
    )
    parser.add_argument('--token', help='the admin token (default: a random one)')
    parser.add_argument(
        '--readonly-token', help='the read-only token (default: a random one)'
    )
    parser.add_argument(
        '--latency-ms',
        type=int,
        default=0,
        metavar='N',
        help='delay every API answer by N ms after handling it (network latency)',
    )
    parser.add_argument(
        '--response-time-ms',
        type=int,
        default=0,
        metavar='N',
        help='answer every API request N ms after it arrived, handling included '
        '(a server whose response time is N ms)',
    )
    parser.add_argument(
        '--fault',
        action='append',
        default=[],
        metavar='JSON',
        help='a fault rule as JSON, e.g. \'{"path": "/users/*", "status": 503, '
        '"headers": {"Retry-After": "5"}, "times": 1}\'; repeatable',
    )
    parser.add_argument(
        '--access-log', action='store_true', help='log every request on stderr'
    )


def _fail(message: str) -> int:
    print(f'imbi-toolkit sandbox: error: {message}', file=sys.stderr)
    return 2


def _valid_token(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not value or any(not 0x21 <= ord(char) <= 0x7E for char in value):
        raise ValueError(f'{name} must be non-empty printable ASCII without spaces')
    return value


def run(args: argparse.Namespace) -> int:
    """Run the sandbox until interrupted; return the exit status."""
    try:
        from imbi_toolkit.sandbox import _faults as faults
        from imbi_toolkit.sandbox import _server as server
    except ImportError as exc:
        return _fail(
            f'the sandbox needs its extra ({exc.name} is missing): '
            "pip install 'imbi-toolkit[sandbox]'"
        )
    try:
        tokens = {
            key: value
            for key, value in (
                ('admin_token', _valid_token('--token', args.token)),
                (
                    'readonly_token',
                    _valid_token('--readonly-token', args.readonly_token),
                ),
            )
            if value is not None
        }
        if tokens.get('admin_token') is not None and tokens.get(
            'admin_token'
        ) == tokens.get('readonly_token'):
            raise ValueError('--token and --readonly-token must differ')
        if not 0 <= args.port <= 65535:
            raise ValueError('--port must be between 0 and 65535')
        config = sandbox_config.SandboxConfig(
            api_version=args.api_version,
            seed=args.seed,
            latency_ms=args.latency_ms,
            response_time_ms=args.response_time_ms,
            prefix=args.prefix,
            projects=args.projects,
            **tokens,
        )
        rules = [
            faults.FaultRule.model_validate(json.loads(text)) for text in args.fault
        ]
    except ValueError as exc:  # includes JSON and pydantic validation errors
        return _fail(str(exc))

    def announce(settings: dict[str, str]) -> None:
        for key, value in settings.items():
            print(f'{key}={value}')
        sys.stdout.flush()

    try:
        server.serve(
            config,
            host=args.host,
            port=args.port,
            db_path=args.db,
            fault_rules=rules,
            access_log=args.access_log,
            announce=announce,
        )
    except OSError as exc:
        return _fail(f'cannot serve on {args.host}:{args.port}: {exc.strerror or exc}')
    except sqlite3.Error as exc:
        return _fail(f'cannot use the database {args.db!r}: {exc}')
    return 0
