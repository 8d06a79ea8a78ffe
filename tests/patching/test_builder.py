from __future__ import annotations

import jsonpatch
import pytest

from imbi_toolkit.patching import Patch, PatchBuilder, escape, join, split


@pytest.mark.parametrize(
    ('key', 'escaped'),
    [
        ('a/b', 'a~1b'),
        ('a~b', 'a~0b'),
        ('~1', '~01'),
        ('/~', '~1~0'),
        ('', ''),
        (3, '3'),
    ],
)
def test_escape_and_split_round_trip(key: str | int, escaped: str) -> None:
    assert escape(key) == escaped
    assert split(join('links', key)) == ['links', str(key)]


def test_builder_escapes_key_sequences_and_keeps_pointer_strings() -> None:
    patch = (
        PatchBuilder()
        .test('/framework', 'fastapi')
        .replace(['framework'], 'litestar')
        .add(('links', 'ci/cd~prod'), 'https://ci')
        .remove(('identifiers', 'a/b'))
        .move(('links', 'old'), ('links', 'new/x'))
        .copy('/links/ci~1cd~0prod', ('links', 'copy'))
        .add(('project_type_slugs', '-'), 'consumer')
        .build()
    )
    assert isinstance(patch, Patch)
    assert list(patch) == [
        {'op': 'test', 'path': '/framework', 'value': 'fastapi'},
        {'op': 'replace', 'path': '/framework', 'value': 'litestar'},
        {'op': 'add', 'path': '/links/ci~1cd~0prod', 'value': 'https://ci'},
        {'op': 'remove', 'path': '/identifiers/a~1b'},
        {'op': 'move', 'path': '/links/new~1x', 'from': '/links/old'},
        {'op': 'copy', 'path': '/links/copy', 'from': '/links/ci~1cd~0prod'},
        {'op': 'add', 'path': '/project_type_slugs/-', 'value': 'consumer'},
    ]
    document = {
        'framework': 'fastapi',
        'links': {'old': 'o'},
        'identifiers': {'a/b': 1},
        'project_type_slugs': [],
    }
    assert (
        jsonpatch.apply_patch(document, patch)
        == patch.apply(document)
        == {
            'framework': 'litestar',
            'links': {'ci/cd~prod': 'https://ci', 'new/x': 'o', 'copy': 'https://ci'},
            'identifiers': {},
            'project_type_slugs': ['consumer'],
        }
    )


def test_builder_patch_is_validated_like_any_other() -> None:
    from imbi_toolkit.patching import PatchValidationError

    patch = PatchBuilder().replace('/updated_at', 'now').build()
    with pytest.raises(
        PatchValidationError, match='operation 0: /updated_at is read-only'
    ):
        patch.validate()
