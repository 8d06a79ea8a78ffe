"""The documents and edits of `benchmarks/bench_diff.py`, small: the patch is
right, type-strict and never longer than `jsonpatch.make_patch`'s."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import typing

import jsonpatch
import pytest

from imbi_toolkit.patching import diff_json

_SCRIPT = pathlib.Path(__file__).parents[2] / 'benchmarks' / 'bench_diff.py'
_SPEC = importlib.util.spec_from_file_location('bench_diff', _SCRIPT)
assert _SPEC is not None and _SPEC.loader is not None
bench_diff = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_diff)

DOCUMENTS = {
    'projects x40': bench_diff.make_projects(40),
    'document 4.2 KiB': bench_diff.make_document(50, 10, 1),
}


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize('document', sorted(DOCUMENTS))
@pytest.mark.parametrize('case', [name for name, _ in bench_diff.CASES])
def test_bench_edits(document: str, case: str) -> None:
    before: typing.Any = DOCUMENTS[document]
    after = dict(bench_diff.CASES)[case](before)
    ours = diff_json(before, after)
    theirs = jsonpatch.make_patch(before, after).patch
    assert canonical(jsonpatch.apply_patch(before, ours)) == canonical(after)
    assert len(ours) <= len(theirs)
    if case == 'key_order':
        assert ours == []
