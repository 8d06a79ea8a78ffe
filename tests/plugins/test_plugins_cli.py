"""`imbi-toolkit plugins` in a subprocess, with installed and broken distributions."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

BROKEN = pathlib.Path(__file__).parent / 'fixtures' / 'broken-plugin'
BROKEN_ERROR = (
    'ModuleNotFoundError: No module named '
    "'imbi_toolkit_dependency_that_is_not_installed'"
)
GITHUB_HOOKS = [
    'imbi_before_deployment_event',
    'imbi_before_release_create',
    'imbi_identity_subject',
]


@pytest.fixture(scope='module')
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The broken distribution, installed by pip into a directory of its own.

    Adding that directory to PYTHONPATH installs it for a subprocess only, so
    the shared virtual environment stays clean.
    """
    target = tmp_path_factory.mktemp('broken-site')
    subprocess.run(
        [
            sys.executable,
            '-m',
            'pip',
            'install',
            '--quiet',
            '--no-deps',
            '--disable-pip-version-check',
            '--target',
            str(target),
            str(BROKEN),
        ],
        check=True,
        capture_output=True,
    )
    return target


def run_plugins(*args: str, site: pathlib.Path | None = None, **env: str):
    environ = {k: v for k, v in os.environ.items() if not k.startswith('IMBI_TOOLKIT_')}
    if site is not None:
        environ['PYTHONPATH'] = os.pathsep.join(
            filter(None, [str(site), environ.get('PYTHONPATH')])
        )
    environ.update(env)
    return subprocess.run(
        [sys.executable, '-m', 'imbi_toolkit', 'plugins', *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )


def test_json_lists_first_party_plugins_and_the_broken_one(broken_site):
    result = run_plugins('--json', site=broken_site)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document['plugins'] == [
        {
            'name': 'github',
            'distribution': 'imbi-toolkit-github',
            'version': '0.1.0',
            'hooks': GITHUB_HOOKS,
        },
        {
            'name': 'semver',
            'distribution': 'imbi-toolkit-semver',
            'version': '0.1.0',
            'hooks': ['imbi_before_release_create'],
        },
    ]
    assert document['failed'] == [
        {
            'name': 'broken-example',
            'distribution': 'imbi-toolkit-broken-example',
            'version': '0.0.1',
            'error': BROKEN_ERROR,
        }
    ]
    assert result.stderr == ''


def test_table(broken_site):
    result = run_plugins(site=broken_site)

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ['NAME', 'DISTRIBUTION', 'VERSION', 'HOOKS']
    assert lines[1].split(maxsplit=3) == [
        'github',
        'imbi-toolkit-github',
        '0.1.0',
        ', '.join(GITHUB_HOOKS),
    ]
    assert lines[2].split() == [
        'semver',
        'imbi-toolkit-semver',
        '0.1.0',
        'imbi_before_release_create',
    ]
    assert lines[4] == 'Failed to load:'
    assert lines[6].split(maxsplit=3) == [
        'broken-example',
        'imbi-toolkit-broken-example',
        '0.0.1',
        BROKEN_ERROR,
    ]


def test_strict_mode_fails_naming_the_distribution(broken_site):
    result = run_plugins(site=broken_site, IMBI_TOOLKIT_STRICT_PLUGINS='1')

    assert result.returncode == 1
    assert result.stdout == ''
    assert result.stderr == (
        "imbi-toolkit: error: plugin 'broken-example' from distribution "
        f"'imbi-toolkit-broken-example' failed to load: {BROKEN_ERROR}\n"
    )


def test_allow_list(broken_site):
    result = run_plugins('--json', site=broken_site, IMBI_TOOLKIT_LOAD_PLUGINS='semver')

    document = json.loads(result.stdout)
    assert [plugin['name'] for plugin in document['plugins']] == ['semver']
    assert document['failed'] == []


def test_empty_allow_list_loads_none():
    result = run_plugins(IMBI_TOOLKIT_LOAD_PLUGINS='')

    assert result.returncode == 0
    assert result.stdout == 'No plugins loaded.\n'
