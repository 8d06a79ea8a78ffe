"""Previews mask credential-shaped values whatever their key."""

from __future__ import annotations

import pytest

from imbi_toolkit.api import Imbi
from imbi_toolkit.patching import PatchBuilder

from .conftest import PATCHABLE

pytestmark = pytest.mark.attack('tokens')

CLIENT_TOKEN = 'client-own-token-Q7x9Zp2L'  # no recognisable shape

SHAPES = [
    ('https://deploy:hunter2-pw@grafana.example.com/d/1', 'hunter2-pw'),
    ('Bearer ik_0123456789abcdef0123456789abcdef_s3cr3tpart', 's3cr3tpart'),
    ('github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'abcdefghijklm'),
    ('ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij', 'ABCDEFGHIJKLMNOP'),
    ('ik_0123456789abcdef0123456789abcdef_s3cr3tpart', 's3cr3tpart'),
    (f'sent as {CLIENT_TOKEN} by the client', CLIENT_TOKEN),
]


@pytest.mark.parametrize(('value', 'hidden'), SHAPES)
def test_credential_shaped_values_are_masked(value: str, hidden: str) -> None:
    Imbi(base_url='http://imbi.test', token=CLIENT_TOKEN)  # registers its token
    patch = (
        PatchBuilder()
        .add('/links/grafana', value)  # a key that names nothing secret
        .replace('/description', {'note': [value]})
        .build()
    )
    preview = patch.preview(PATCHABLE)
    for form in (
        str(preview),
        preview._repr_markdown_(),
        preview._repr_html_(),
        repr(patch),
    ):
        assert hidden not in form
        assert '••••••' in form


def test_the_rest_of_a_value_stays_readable() -> None:
    preview = (
        PatchBuilder()
        .add('/links/grafana', 'https://deploy:hunter2-pw@grafana.example.com/d/1')
        .build()
        .preview(PATCHABLE)
    )
    assert '"https://••••••@grafana.example.com/d/1"' in str(preview)
