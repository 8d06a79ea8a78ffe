"""Settings read IMBI_CLIENT_* from the environment."""

from __future__ import annotations

import pathlib

import pydantic
import pytest

from imbi_toolkit.api import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    for name in ('API_BASE_URL', 'API_TOKEN', 'USER_AGENT'):
        monkeypatch.delenv(f'IMBI_CLIENT_{name}', raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file


def test_token_is_required() -> None:
    with pytest.raises(pydantic.ValidationError, match='api_token'):
        Settings()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    settings = Settings()
    assert str(settings.api_base_url).rstrip('/') == 'http://imbi-api:8000'
    assert isinstance(settings.api_token, pydantic.SecretStr)
    assert settings.api_token.get_secret_value() == 'tok'
    assert settings.user_agent is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'https://imbi.example.com/api')
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    monkeypatch.setenv('IMBI_CLIENT_USER_AGENT', 'svc/2')
    settings = Settings()
    assert str(settings.api_base_url) == 'https://imbi.example.com/api'
    assert settings.user_agent == 'svc/2'


def test_dotenv_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / '.env').write_text('IMBI_CLIENT_API_TOKEN=from-file\n')
    assert Settings().api_token.get_secret_value() == 'from-file'


def test_bad_url_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'not a url')
    with pytest.raises(pydantic.ValidationError, match='api_base_url'):
        Settings()
