"""Conformance: the sandbox against recorded exchanges of the real imbi-api.

`recording-2.41.json` is what the real imbi-api 2.41.0 answered to the fixed
scenario of `scripts/record_exchanges.py` (recorded with the harness in
/work/shared/tools/real-imbi; `make conformance` records afresh). The main test
runs the same scenario against a sandbox over a real socket and compares step
by step (see `comparison.py`); every difference must be listed, with a reason,
in `allowed-differences.toml`.

`IMBI_CONFORMANCE_RECORDING=FILE` compares against another recording (a fresh
one from `make conformance`) instead of the committed one.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import pathlib
import re
import sys
import types
import typing
from collections import abc

import pytest

from imbi_toolkit.sandbox._process import SandboxProcess

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ALLOW_LIST = HERE / 'allowed-differences.toml'
# Recorded version -> the committed recording of the real server.
RECORDINGS = {'2.41': HERE / 'recording-2.41.json'}


def _load(name: str, path: pathlib.Path) -> types.ModuleType:
    # Neither file is in an importable package (scripts/ is not one, and the
    # tests run with --import-mode=importlib).
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


comparison = _load('conformance_comparison', HERE / 'comparison.py')
recorder = _load(
    'conformance_record_exchanges', ROOT / 'scripts' / 'record_exchanges.py'
)


def _recording(recorded: str) -> dict[str, typing.Any]:
    path = pathlib.Path(
        os.environ.get('IMBI_CONFORMANCE_RECORDING') or RECORDINGS[recorded]
    )
    return typing.cast(
        dict[str, typing.Any], json.loads(path.read_text(encoding='utf-8'))
    )


@pytest.mark.parametrize('recorded', ['2.41'])
def test_sandbox_matches_the_recorded_real_server(
    recorded: str, imbi_sandbox_factory: abc.Callable[..., SandboxProcess]
) -> None:
    expected = _recording(recorded)
    version = recorded
    # A sandbox of its own: the scenario writes releases and a PATCH.
    sandbox = imbi_sandbox_factory(api_version=version)
    actual = recorder.record(sandbox.base_url, sandbox.token, org='engineering')
    differences = comparison.compare_recordings(expected, actual)
    remaining, stale = comparison.apply_allow_list(
        differences, comparison.load_allow_list(ALLOW_LIST), version
    )
    assert not remaining and not stale, (
        f'the sandbox ({version}) differs from the real server '
        f'({expected["api_version"]}) in {len(remaining)} way(s) not in '
        f'{ALLOW_LIST.name}:\n' + comparison.report(remaining, stale)
    )


def test_the_scenario_runs_on_the_sandbox_and_hides_token_and_host(
    imbi_sandbox: SandboxProcess,
) -> None:
    actual = recorder.record(
        imbi_sandbox.base_url, imbi_sandbox.token, org='engineering'
    )
    text = json.dumps(actual)
    port = imbi_sandbox.base_url.rsplit(':', 1)[1]
    assert imbi_sandbox.token not in text
    assert '127.0.0.1' not in text and f':{port}' not in text
    assert [e['name'] for e in actual['exchanges']] == [
        e['name'] for e in _recording('2.41')['exchanges']
    ]
    statuses = {e['name']: e['status'] for e in actual['exchanges']}
    assert statuses['auth_no_token'] == 401
    assert statuses['release_create_new'] == 201


# -- the recording itself -------------------------------------------------------


@pytest.fixture(scope='module')
def recording() -> dict[str, typing.Any]:
    return _recording('2.41')


def test_recording_holds_no_secret_host_or_raw_timestamp(
    recording: dict[str, typing.Any],
) -> None:
    text = json.dumps(recording)
    for pattern, what in (
        (r'ik_[0-9a-fA-F]{32}_(?!recorderUnknownKey)', 'an API key'),
        (r'eyJ[A-Za-z0-9_-]+\.', 'a JWT'),
        (r'127\.0\.0\.1|localhost|\[::1\]', 'a loopback host'),
        (r'https?://[^/"]*:\d+', 'a host with a port'),
        (r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}', 'a raw timestamp'),
        (r'eng-\d{12}-[0-9a-f]{4}', "run.sh org's organisation slug"),
        (r'/var/tmp|/work/|/root/', 'a local path'),
    ):
        found = re.search(pattern, text)
        assert found is None, f'the recording holds {what}: {found.group(0)!r}'


def test_recording_is_of_the_current_scenario(recording: dict[str, typing.Any]) -> None:
    assert recording['format'] == recorder.FORMAT
    assert recording['scenario'] == recorder.SCENARIO_VERSION, (
        'the scenario changed since the recording: record again (make conformance)'
    )
    assert recording['api_version'] == '2.41.0'
    names = [exchange['name'] for exchange in recording['exchanges']]
    assert len(names) == len(set(names))
    # What the toolkit depends on most is there, with the real answers.
    statuses = {
        exchange['name']: exchange['status'] for exchange in recording['exchanges']
    }
    assert statuses['release_create_new'] == 201
    assert statuses['release_create_same_again'] == 200
    assert statuses['auth_no_token'] == 401
    assert statuses['redirect_organizations_no_slash'] == 307


# -- the comparison can fail, and says why ----------------------------------------


def _step(recording: dict[str, typing.Any], name: str) -> dict[str, typing.Any]:
    return next(e for e in recording['exchanges'] if e['name'] == name)


def test_a_recording_matches_itself(recording: dict[str, typing.Any]) -> None:
    assert comparison.compare_recordings(recording, copy.deepcopy(recording)) == []


def test_each_kind_of_difference_is_reported_readably(
    recording: dict[str, typing.Any],
) -> None:
    changed = copy.deepcopy(recording)
    _step(changed, 'release_create_same_again')['status'] = 409
    _step(changed, 'auth_no_token')['headers'].pop('www-authenticate')
    _step(changed, 'project_get')['body'].pop('slug')
    _step(changed, 'project_get')['body']['surprise'] = 1
    _step(changed, 'project_get')['body']['name'] = None
    _step(changed, 'project_get_unknown')['body']['detail'] = 'Nope'
    edge = _step(changed, 'deployment_edge_get')['body']
    events = len(edge['deployments'])
    edge['deployments'].append(copy.deepcopy(edge['deployments'][0]))
    changed['exchanges'] = [e for e in changed['exchanges'] if e['name'] != 'status']

    text = comparison.report(comparison.compare_recordings(recording, changed))

    assert (
        'release_create_same_again:\n  status [status]: recorded 200, got 409' in text
    )
    assert (
        'auth_no_token:\n  header www-authenticate [header]: '
        "recorded 'Bearer', got absent" in text
    )
    assert 'body.slug [missing]: recorded string, got no such key' in text
    assert 'body.surprise [extra]: recorded no such key, got number' in text
    assert 'body.name [type]: recorded string, got null' in text
    assert (
        'project_get_unknown:\n  detail [value]: recorded '
        '"Project \'NoSuchProject00000000\' not found", got "Nope"' in text
    )
    assert (
        f'body.deployments [length]: recorded {events} items, got {events + 1} items'
        in text
    )
    assert 'status:\n  step [step]: recorded present, got absent' in text


def test_a_timestamp_in_another_format_is_a_difference(
    recording: dict[str, typing.Any],
) -> None:
    changed = copy.deepcopy(recording)
    _step(changed, 'release_get')['body']['created_at'] = '<ts:+00:00>'
    differences = comparison.compare_recordings(recording, changed)
    assert [str(d) for d in differences] == [
        'release_get: body.created_at [type]: recorded <ts:Z>, got <ts:+00:00>',
        'release_get: body.created_at [value]: recorded "<ts:Z>", got "<ts:+00:00>"',
    ]


def test_the_allow_list_hides_what_it_names_and_reports_stale_entries(
    tmp_path: pathlib.Path, recording: dict[str, typing.Any]
) -> None:
    changed = copy.deepcopy(recording)
    _step(changed, 'release_create_same_again')['status'] = 409
    _step(changed, 'project_get')['body'].pop('slug')
    allow = tmp_path / 'allow.toml'
    allow.write_text(
        '[[allowed]]\nstep = "release_create_*"\nwhere = "status"\n'
        'reason = "older line"\nversions = ["9.9"]\n'
        '[[allowed]]\nstep = "users_me"\nwhere = "body.*"\nreason = "stale"\n',
        encoding='utf-8',
    )
    entries = comparison.load_allow_list(allow)
    differences = comparison.compare_recordings(recording, changed)

    remaining, stale = comparison.apply_allow_list(differences, entries, '9.9')
    assert [str(d) for d in remaining] == [
        'project_get: body.slug [missing]: recorded string, got no such key'
    ]
    assert [entry.step for entry in stale] == ['users_me']

    # An entry for another version covers nothing.
    remaining, stale = comparison.apply_allow_list(differences, entries, '2.41')
    assert len(remaining) == 2


def test_an_allow_list_entry_can_name_both_sides(
    tmp_path: pathlib.Path, recording: dict[str, typing.Any]
) -> None:
    changed = copy.deepcopy(recording)
    _step(changed, 'release_get')['body']['created_at'] = None
    _step(changed, 'release_get')['body']['updated_at'] = '<ts:+00:00>'
    allow = tmp_path / 'allow.toml'
    allow.write_text(
        '[[allowed]]\nstep = "release_get"\nwhere = "body.*_at"\nkind = "type"\n'
        'expected = "<ts:Z>"\nactual = "null"\nreason = "seed data"\n',
        encoding='utf-8',
    )
    differences = comparison.compare_recordings(recording, changed)
    remaining, stale = comparison.apply_allow_list(
        differences, comparison.load_allow_list(allow), '2.41'
    )
    # The null is allowed; the other timestamp format is not.
    assert [str(d) for d in remaining if d.kind == 'type'] == [
        'release_get: body.updated_at [type]: recorded <ts:Z>, got <ts:+00:00>'
    ]
    assert stale == []


def test_an_allow_list_entry_needs_a_reason(tmp_path: pathlib.Path) -> None:
    allow = tmp_path / 'allow.toml'
    allow.write_text('[[allowed]]\nstep = "x"\nwhere = "status"\n', encoding='utf-8')
    with pytest.raises(comparison.AllowListError, match='non-empty reason'):
        comparison.load_allow_list(allow)


def test_the_committed_allow_list_names_real_steps(
    recording: dict[str, typing.Any],
) -> None:
    names = [exchange['name'] for exchange in recording['exchanges']]
    for entry in comparison.load_allow_list(ALLOW_LIST):
        assert any(comparison.glob_match(name, entry.step) for name in names), (
            f'{ALLOW_LIST.name}: {entry} names no step of the scenario'
        )
