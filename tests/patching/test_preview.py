from __future__ import annotations

import html
import re

from IPython.lib.pretty import pretty

from imbi_toolkit.patching import Patch, PatchBuilder, Preview

from .conftest import PATCHABLE

SECRET = 'hunter2-very-secret'
API_KEY = 'ik_0123456789abcdef0123456789abcdef_abcdefgh'


def sample() -> Preview:
    patch = (
        PatchBuilder()
        .test('/framework', 'fastapi')
        .replace('/framework', 'litestar')
        .add('/links/grafana', 'https://grafana.example.com/' + 'x' * 200)
        .remove('/links/github-repository')
        .add('/identifiers/api_token', SECRET)
        .replace('/identifiers/sonarqube', {'password': SECRET, 'ok': 'visible'})
        .add('/links/<b>', API_KEY)
        .move('/project_type_slugs/0', '/project_type_slugs/-')
        .build()
    )
    return patch.preview(PATCHABLE)


def test_plain_text_form() -> None:
    preview = sample()
    text = str(preview)
    lines = text.splitlines()
    assert lines[1].split() == ['?', 'test', '/framework', '"fastapi"', '"fastapi"']
    assert lines[2].split() == ['~', 'replace', '/framework', '"fastapi"', '"litestar"']
    assert lines[4].split()[:4] == [
        '-',
        'remove',
        '/links/github-repository',
        '"https://github.com/example/billing-api"',
    ]
    assert '/project_type_slugs/0 → /project_type_slugs/-' in text
    assert lines[-1] == '(8 operations)'
    assert repr(preview) == text
    assert pretty(preview) == text


def test_long_values_are_shortened() -> None:
    row = sample().rows[2]
    assert len(row.new) == 80
    assert row.new.endswith('…')


def test_secrets_are_never_shown_in_any_form() -> None:
    preview = sample()
    forms = [str(preview), preview._repr_markdown_(), preview._repr_html_()]
    for form in forms:
        assert SECRET not in form
        assert API_KEY not in form
        assert '••••••' in form
    assert '"visible"' in str(preview)  # only the secret part is masked


def test_html_form_is_a_coloured_escaped_table() -> None:
    markup = sample()._repr_html_()
    assert markup.startswith('<table class="imbi-patch-preview"')
    # Translucent tints, which read on light and dark themes (tests/browser).
    assert re.search(
        r'<tr class="imbi-patch-add" style="[^"]*rgba\(46, 160, 67', markup
    )
    assert re.search(r'<tr class="imbi-patch-remove" style="[^"]*rgba\(248, 81', markup)
    assert re.search(
        r'<tr class="imbi-patch-replace" style="[^"]*rgba\(212, 167', markup
    )
    assert '<b>' not in markup
    assert html.escape('/links/<b>') in markup.replace('<wbr>', '')


def test_markdown_form_is_a_table() -> None:
    markdown = sample()._repr_markdown_()
    lines = markdown.splitlines()
    assert lines[0] == '| op | path | old | new |'
    assert lines[3] == '| `replace` | `/framework` | `"fastapi"` | `"litestar"` |'
    assert len(lines) == 2 + 8


def test_patch_repr_masks_secrets_and_renders_as_preview() -> None:
    patch = Patch([{'op': 'add', 'path': '/identifiers/api_token', 'value': SECRET}])
    assert SECRET not in repr(patch)
    assert SECRET not in patch._repr_html_()
    assert SECRET in patch.to_json()  # what is sent is the real value


def test_empty_patch() -> None:
    preview = Patch().preview()
    assert str(preview) == 'No changes.'
    assert preview._repr_markdown_() == '*No changes.*'
    assert 'No changes' in preview._repr_html_()
