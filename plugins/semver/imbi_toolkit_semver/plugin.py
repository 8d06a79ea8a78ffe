"""The semver plugin's hook."""

from __future__ import annotations

import re
import typing

import pydantic
import pydantic_settings

from imbi_toolkit import hookimpl
from imbi_toolkit.plugins import RefusedError

#: Semantic Versioning 2.0.0 (semver.org's pattern), with an optional `v`.
SEMVER_PATTERN = (
    r'^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)'
    r'(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)'
    r'(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?'
    r'(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$'
)

# What the API stores: 7 lowercase hex characters. Accept a short or full SHA.
_COMMITTISH = re.compile(r'[0-9a-fA-F]{7,40}')


class TagFormat(pydantic.BaseModel):
    """One accepted tag format, shaped like an Imbi organisation's `tag_formats`.

    Attributes:
        label: A name for messages (e.g. `Semver`).
        pattern: A regular expression the whole tag must match.
    """

    label: str
    pattern: str

    @pydantic.field_validator('pattern')
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f'{pattern!r} is not a regular expression: {exc}'
            ) from None
        return pattern

    def matches(self, tag: str) -> bool:
        """Whether the whole tag matches this format."""
        return re.fullmatch(self.pattern, tag) is not None


class SemverSettings(pydantic_settings.BaseSettings):
    """Configuration, read from `IMBI_TOOLKIT_SEMVER_*` environment variables.

    Attributes:
        tag_formats: The accepted formats, as JSON in the environment, e.g.
            `[{"label": "Semver", "pattern": "^v?\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"}]`
            (the shape of an Imbi organisation's `tag_formats`). Defaults to
            Semantic Versioning with an optional `v`.
        title_template: The title of a release that has none; `{tag}` is
            the tag and `{version}` the tag without a leading `v`.
    """

    model_config = pydantic_settings.SettingsConfigDict(
        env_prefix='IMBI_TOOLKIT_SEMVER_', extra='ignore'
    )

    tag_formats: list[TagFormat] = pydantic.Field(
        default_factory=lambda: [TagFormat(label='Semver', pattern=SEMVER_PATTERN)],
        min_length=1,
    )
    title_template: str = 'Release {tag}'


class SemverPlugin:
    """Check and complete release bodies before anything is sent.

    `imbi_before_release_create` runs first (`tryfirst`), so a bad body is
    refused before other plugins make requests. It:

    - normalises `committish` (a short or full SHA, any case) to the 7
      lowercase hex characters the API requires, and refuses anything else;
    - refuses a `tag` that matches none of the `tag_formats`;
    - sets `title` from the tag when the body has none.

    Args:
        settings: The configuration; when not given, it is read from the
            environment each time a hook runs.
    """

    def __init__(self, settings: SemverSettings | None = None) -> None:
        self._settings = settings

    def __repr__(self) -> str:
        return f'<{type(self).__name__}>'

    @property
    def settings(self) -> SemverSettings:
        """The configuration in use: the one given, or the environment's now."""
        # Read on each use, so a notebook or a test can change the variables.
        return self._settings or SemverSettings()

    @hookimpl(tryfirst=True)
    def imbi_before_release_create(
        self, body: dict[str, typing.Any]
    ) -> dict[str, typing.Any]:
        """Normalise the committish, check the tag, derive a missing title."""
        settings = self.settings
        committish = str(body.get('committish') or '').strip()
        tag = body.get('tag')
        changed = dict(body)
        if committish or not tag:
            # A tag alone is a release the server resolves to a commit
            # (API 2.32.3+); anything given as a commit must look like one.
            if not _COMMITTISH.fullmatch(committish):
                raise RefusedError(
                    f'committish {committish!r} is not a commit SHA: give 7 to 40 '
                    'hexadecimal characters, e.g. the output of `git rev-parse HEAD`'
                )
            changed['committish'] = committish[:7].lower()
        if tag is not None:
            tag = str(tag).strip()
            if not any(fmt.matches(tag) for fmt in settings.tag_formats):
                labels = ', '.join(fmt.label for fmt in settings.tag_formats)
                raise RefusedError(
                    f'tag {tag!r} does not match the tag formats ({labels}): use '
                    'a semantic version such as 1.4.0 or v1.4.0, or set '
                    'IMBI_TOOLKIT_SEMVER_TAG_FORMATS'
                )
            changed['tag'] = tag
        if not body.get('title'):
            if not tag:
                raise RefusedError(
                    'the release has neither a title nor a tag to derive one '
                    'from: give a title or a tag'
                )
            changed['title'] = settings.title_template.format(
                tag=tag, version=tag.removeprefix('v')
            )
        return changed
