"""`%imbi` lines are split as a shell splits them: quotes group, and go.

Found by running the quickstart against the real imbi-api 2.41.0: the
release `--title 'Billing API 2.0'` was stored as "'Billing API 2.0'" and
the deployment note with its quotes too (IPython's `parse_argstring` splits
non-POSIX and keeps them).
"""

from __future__ import annotations

import typing

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell


def test_quoted_values_are_sent_without_their_quotes(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    ip.run_line_magic(
        'imbi',
        'release billing-api --committish a1b2c3d --tag 7.7.7 '
        "--title 'Billing API 7.7' -o release",
    )
    ip.run_line_magic(
        'imbi', 'deploy billing-api staging --tag 7.7.7 --note "two words" -o edge'
    )
    release = ip.user_ns['release']
    assert release['title'] == 'Billing API 7.7'
    assert ip.user_ns['edge']['deployments'][-1]['note'] == 'two words'
    # What the server stored, read back without the toolkit.
    response = httpx.get(
        f'{sandbox.base_url}/organizations/engineering/projects/'
        f'{release["project_id"]}/releases/',
        params={'tag': '7.7.7'},
        headers={'authorization': f'Bearer {sandbox.token}'},
    )
    assert [r['title'] for r in response.json()] == ['Billing API 7.7']


def test_an_unclosed_quote_is_one_clear_line(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=r'No closing quotation.*close the quotes'):
        ip.run_line_magic('imbi', "release billing-api --tag 1.0.0 --title 'Billing")
