"""`imbi-toolkit plugins`: list the installed plugins and those that failed."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from collections import abc

from imbi_toolkit.plugins import _manager as manager_module
from imbi_toolkit.plugins import errors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the subcommand's options."""
    parser.add_argument(
        '--json', action='store_true', help='print JSON instead of a table'
    )


def _table(rows: abc.Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join(
        '  '.join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def run(args: argparse.Namespace) -> int:
    """List every loaded plugin, then every plugin that failed to load.

    Returns:
        0; 1 when strict mode (`IMBI_TOOLKIT_STRICT_PLUGINS=1`) refused a
        plugin.
    """
    try:
        # Failed plugins are listed below; their warnings would say it twice.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', manager_module.PluginLoadWarning)
            manager = manager_module.get_plugin_manager()
    except errors.PluginLoadError as exc:
        print(f'imbi-toolkit: error: {exc}', file=sys.stderr)
        return 1
    plugins = manager.list_plugins()
    failures = manager.failures
    if args.json:
        document = {
            'plugins': [dataclasses.asdict(info) for info in plugins],
            'failed': [dataclasses.asdict(failure) for failure in failures],
        }
        print(json.dumps(document, indent=2))
        return 0
    if plugins:
        rows = [('NAME', 'DISTRIBUTION', 'VERSION', 'HOOKS')]
        rows += [
            (
                info.name,
                info.distribution or '-',
                info.version or '-',
                ', '.join(info.hooks) or '-',
            )
            for info in plugins
        ]
        print(_table(rows))
    else:
        print('No plugins loaded.')
    if failures:
        print('\nFailed to load:')
        rows = [('NAME', 'DISTRIBUTION', 'VERSION', 'ERROR')]
        rows += [(f.name, f.distribution, f.version or '-', f.error) for f in failures]
        print(_table(rows))
    return 0
