"""The ``imbi-toolkit`` command line: one subcommand per module that owns it."""

from __future__ import annotations

import argparse
import importlib
import sys
import typing
from collections import abc

# Subcommand -> module providing ``add_arguments(parser)`` and ``run(args) -> int``.
# Modules are imported only when their subcommand runs, so that
# ``imbi-toolkit --help`` stays fast and the sandbox's extra is optional.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    'sandbox': ('imbi_toolkit.sandbox._cli', 'Run a local Imbi API sandbox.'),
    'plugins': ('imbi_toolkit.plugins._cli', 'List installed imbi-toolkit plugins.'),
    'notebook': (
        'imbi_toolkit.magics._notebooks',
        'Run a notebook in a real kernel (against a demo sandbox) and save it.',
    ),
    'demo': (
        'imbi_toolkit.sandbox._demo',
        'Walk through the client against a demo sandbox.',
    ),
}


class _Subcommand(typing.Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Subcommand:
    module_name, _ = SUBCOMMANDS[name]
    return typing.cast(_Subcommand, importlib.import_module(module_name))


def main(argv: abc.Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog='imbi-toolkit', description='Work with Imbi from the command line.'
    )
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    chosen = next((arg for arg in argv if arg in SUBCOMMANDS), None)
    for name, (_, help_text) in SUBCOMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _load(name).add_arguments(subparser)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _load(args.command).run(args)


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
