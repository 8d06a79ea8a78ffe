"""The redacting log filter: masks secrets, leaves clean records alone."""

from __future__ import annotations

import logging

import pytest

from imbi_toolkit.api import _redaction as redaction

SECRET = 'registered-s3cret-value'


@pytest.fixture(autouse=True)
def installed() -> None:
    redaction.install()
    redaction.register_secret(SECRET)


def _record(
    logger: str, msg: str, *args: object, exc: bool = False
) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f'boom {SECRET}')
        except RuntimeError as error:
            exc_info = (type(error), error, error.__traceback__)
    return logging.getLogger(logger).makeRecord(
        logger, logging.WARNING, __file__, 1, msg, args, exc_info
    )


@pytest.mark.parametrize(
    'logger',
    ['imbi_toolkit.api._client', 'imbi_toolkit.bulk.x', 'httpx', 'httpcore.http11'],
)
def test_records_of_our_loggers_are_masked(logger: str) -> None:
    record = _record(logger, 'sent %s to %s', f'Bearer {SECRET}', 'http://u:p@h/')
    assert record.getMessage() == 'sent Bearer [REDACTED] to http://[REDACTED]@h/'


def test_clean_records_keep_their_format_and_args() -> None:
    record = _record(
        'imbi_toolkit.api._client', 'Failed to create release %r: %s', '/x', 'y'
    )
    assert record.msg == 'Failed to create release %r: %s'
    assert record.args == ('/x', 'y')


def test_tracebacks_are_masked() -> None:
    record = _record('imbi_toolkit.api._client', 'failed', exc=True)
    text = logging.Formatter().format(record)
    assert SECRET not in text
    assert 'RuntimeError: boom [REDACTED]' in text


def test_other_loggers_are_not_touched() -> None:
    record = _record('someone.else', 'token %s', SECRET)
    assert record.args == (SECRET,)


def test_filter_attached_to_known_loggers() -> None:
    for name in ('httpx', 'httpcore', 'httpcore.connection', 'imbi_toolkit'):
        assert any(
            isinstance(f, redaction.RedactingFilter)
            for f in logging.getLogger(name).filters
        )


def test_short_secrets_are_ignored() -> None:
    redaction.register_secret('ab')
    assert redaction.redact('abc lab') == 'abc lab'


def test_a_text_found_clean_is_masked_once_its_secret_is_registered() -> None:
    # Clean texts are remembered (the journal redacts "patched" thousands of
    # times); a secret registered later must still be masked in them.
    secret = 'late-registered-s3cr3t-value'
    text = f'the server said: {secret}'
    assert redaction.redact(text) == text
    assert redaction.redact(text) == text  # now from the clean-text memory
    redaction.register_secret(secret)
    assert secret not in redaction.redact(text)
    assert redaction.redact(text) == f'the server said: {redaction.REDACTED}'
