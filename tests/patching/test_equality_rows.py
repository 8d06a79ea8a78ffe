"""Long lists of rows (dicts) are compared strictly, shared or not."""

from __future__ import annotations

import copy

from imbi_toolkit.patching import diff_json
from imbi_toolkit.patching._equality import strictly_equal

ROWS = [{'id': index, 'ok': True, 'score': 0.0} for index in range(20)]


def test_copied_rows_are_equal() -> None:
    assert strictly_equal({'rows': ROWS}, {'rows': copy.deepcopy(ROWS)})
    assert diff_json({'rows': ROWS}, {'rows': copy.deepcopy(ROWS)}) == []


def test_a_change_hidden_by_python_equality_is_found() -> None:
    for field, value in [('id', 12.0), ('ok', 1), ('score', -0.0)]:
        after = copy.deepcopy(ROWS)
        after[12][field] = value
        assert not strictly_equal({'rows': ROWS}, {'rows': after})
        assert diff_json({'rows': ROWS}, {'rows': after}) == [
            {'op': 'replace', 'path': f'/rows/12/{field}', 'value': value}
        ]


def test_rows_with_keys_in_another_order_are_still_equal() -> None:
    after = copy.deepcopy(ROWS)
    after[3] = {'score': 0.0, 'ok': True, 'id': 3}
    assert strictly_equal({'rows': ROWS}, {'rows': after})
    assert diff_json({'rows': ROWS}, {'rows': after}) == []
