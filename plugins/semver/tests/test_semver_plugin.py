"""The semver plugin: tags, titles and committish before anything is sent."""

from __future__ import annotations

import importlib.metadata

import pydantic
import pytest
from imbi_toolkit_semver import SemverPlugin, SemverSettings, TagFormat, plugin

from imbi_toolkit.plugins import RefusedError


def test_the_entry_point_names_this_plugin():
    [entry_point] = [
        ep
        for ep in importlib.metadata.entry_points(group='imbi_toolkit')
        if ep.name == 'semver'
    ]
    assert entry_point.dist.metadata['Name'] == 'imbi-toolkit-semver'
    assert entry_point.load() is plugin


@pytest.mark.parametrize(
    'tag',
    ['1.4.0', 'v1.4.0', '0.0.1', '1.0.0-rc.1', '2.3.4+build.7', '10.20.30-alpha.beta'],
)
def test_semver_tags_pass(tag):
    body = {'committish': 'a1b2c3d', 'title': 'T', 'tag': tag}

    assert SemverPlugin(SemverSettings()).imbi_before_release_create(body) == body


@pytest.mark.parametrize('tag', ['1.4', 'v1', '01.2.3', 'release-1.2.3', '1.2.3.4', ''])
def test_other_tags_are_refused_with_what_to_do(tag):
    with pytest.raises(RefusedError) as caught:
        SemverPlugin(SemverSettings()).imbi_before_release_create(
            {'committish': 'a1b2c3d', 'title': 'T', 'tag': tag}
        )

    assert str(caught.value) == (
        f'tag {tag!r} does not match the tag formats (Semver): use a semantic '
        'version such as 1.4.0 or v1.4.0, or set IMBI_TOOLKIT_SEMVER_TAG_FORMATS'
    )


def test_title_is_derived_from_the_tag():
    settings = SemverSettings(title_template='{version} ({tag})')

    body = SemverPlugin(settings).imbi_before_release_create(
        {'committish': 'a1b2c3d', 'tag': 'v2.0.0'}
    )

    assert body['title'] == '2.0.0 (v2.0.0)'
    assert (
        SemverPlugin(SemverSettings()).imbi_before_release_create(
            {'committish': 'a1b2c3d', 'tag': 'v2.0.0', 'title': ''}
        )['title']
        == 'Release v2.0.0'
    )


def test_no_title_and_no_tag_is_refused():
    with pytest.raises(RefusedError, match='neither a title nor a tag'):
        SemverPlugin(SemverSettings()).imbi_before_release_create(
            {'committish': 'a1b2c3d'}
        )


@pytest.mark.parametrize(
    ('given', 'sent'),
    [
        ('A1B2C3D', 'a1b2c3d'),
        ('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', 'a1b2c3d'),
        (' 0123abcDEF ', '0123abc'),
    ],
)
def test_committish_is_normalised(given, sent):
    body = SemverPlugin(SemverSettings()).imbi_before_release_create(
        {'committish': given, 'title': 'T'}
    )

    assert body['committish'] == sent


@pytest.mark.parametrize('committish', ['abc12', 'main', 'a1b2c3g', None, 'a' * 41])
def test_a_committish_that_is_not_a_sha_is_refused(committish):
    with pytest.raises(
        RefusedError, match='is not a commit SHA: give 7 to 40 hexadecimal'
    ):
        SemverPlugin(SemverSettings()).imbi_before_release_create(
            {'committish': committish, 'title': 'T'}
        )


def test_tag_formats_from_the_environment_like_an_organisation(monkeypatch):
    monkeypatch.setenv(
        'IMBI_TOOLKIT_SEMVER_TAG_FORMATS',
        '[{"label": "CalVer", "pattern": "^\\\\d{4}\\\\.\\\\d{2}\\\\.\\\\d+$"}]',
    )
    semver = SemverPlugin()

    assert semver.imbi_before_release_create(
        {'committish': 'a1b2c3d', 'tag': '2026.11.3'}
    )
    with pytest.raises(RefusedError, match=r'\(CalVer\)'):
        semver.imbi_before_release_create({'committish': 'a1b2c3d', 'tag': '1.2.3'})


def test_a_broken_pattern_is_a_configuration_error():
    with pytest.raises(pydantic.ValidationError, match='is not a regular expression'):
        TagFormat(label='bad', pattern='(')


def test_a_tag_alone_is_left_for_the_server_to_resolve():
    # API 2.32.3+ resolves a tag to its commit; the plugin checks the tag.
    body = SemverPlugin(SemverSettings()).imbi_before_release_create({'tag': 'v3.0.0'})

    assert 'committish' not in body
    assert body['title'] == 'Release v3.0.0'
    with pytest.raises(RefusedError, match='does not match the tag formats'):
        SemverPlugin(SemverSettings()).imbi_before_release_create({'tag': 'three'})
