"""Build request paths from caller-supplied values, one safe segment each."""

from __future__ import annotations

import urllib.parse

# A dot segment is resolved by URL normalisation (ours, a proxy's or the
# server's), which would let an argument climb to another route.
_DOT_SEGMENTS = frozenset({'.', '..'})

# RFC 3986's unreserved characters: `quote(text, safe='')` leaves them as
# they are, so a value made only of them (slugs, ids) is its own encoding.
_UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'


def segment(name: str, value: object) -> str:
    """Percent-encode ``value`` as exactly one URL path segment.

    Args:
        name: The argument's name, used in the error message.
        value: The value to place in the path. It is converted with `str`.

    Returns:
        The encoded segment: every character outside RFC 3986's unreserved
        set, `/` and `%` included, is percent-encoded.

    Raises:
        ValueError: When the value is empty or is a dot segment (`.` or
            `..`, also in percent-encoded form), since either would make the
            request reach a different route.
    """
    text = str(value)
    if not text:
        raise ValueError(f'{name} must not be empty')
    if not text.rstrip(_UNRESERVED) and text not in _DOT_SEGMENTS:
        return text  # slugs and ids: already their own encoding
    if text in _DOT_SEGMENTS or urllib.parse.unquote(text) in _DOT_SEGMENTS:
        raise ValueError(
            f'{name} must not be a dot segment ({text!r}); '
            'pass the real identifier or slug'
        )
    return urllib.parse.quote(text, safe='')


def build(template: str, **values: object) -> str:
    """Fill a ``str.format`` path template with encoded segments.

    Examples:
        >>> build('/organizations/{org_slug}/projects/{project_id}',
        ...       org_slug='eng', project_id='a/b')
        '/organizations/eng/projects/a%2Fb'
    """
    return template.format(
        **{name: segment(name, value) for name, value in values.items()}
    )
