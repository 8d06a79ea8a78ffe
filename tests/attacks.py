"""The figures of the hostile-input tests, printed at the end of the session.

A test module declares what it attacks with ``pytestmark =
pytest.mark.attack('<class>')``. Each test is one attack; a test that fails
is an attack that got through, and counts in the figure of its class:

- ``duplicated-writes``: a write applied twice (replay safety, the journal);
- ``tokens``: the token (or a credential) found in output, errors, tracebacks;
- ``lost-variables``: a failing magic changed the user's variables;
- ``sandbox-500s``: the sandbox answered 500 to bad input or stored it;
- ``crashes``: an exception from inside the toolkit instead of a clear error
  (the diff engine, the magics' parsing and display).
"""

from __future__ import annotations

import collections
import typing

FIGURE_OF = {
    'duplicated-writes': 'duplicated writes',
    'tokens': 'tokens found',
    'lost-variables': 'lost user variables',
    'sandbox-500s': 'sandbox 500s on bad input',
    'crashes': 'crashes',
}

tried = collections.Counter[str]()
got_through = collections.Counter[str]()


def record(report: typing.Any) -> None:
    """Count one test report (call phase) of an attack module."""
    if report.when != 'call':
        return
    marker = report.keywords.get('attack')
    if marker is None:
        return
    kind = str(getattr(report, 'attack_kind', '')) or 'crashes'
    tried[kind] += 1
    if not report.passed:
        got_through[kind] += 1


def summary() -> str | None:
    """The one line, or `None` when no attack ran."""
    total = sum(tried.values())
    if not total:
        return None
    figures = ', '.join(f'{FIGURE_OF[k]}: {got_through[k]}' for k in FIGURE_OF)
    survived = total - sum(got_through.values())
    return f'attacks tried: {total}, survived: {survived}, {figures}'
