"""A base URL with credentials is refused before it is stored or used."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit import magics

pytestmark = pytest.mark.attack('tokens')

PASSWORD = 'pw-CANARY-base-url'


def test_connect_refuses_a_base_url_with_credentials(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('IMBI_CLIENT_API_TOKEN', 'ik_x_y')
    instance = magics.loaded(shell)
    assert instance is not None
    before = instance.base_url
    with pytest.raises(UsageError, match='must not contain credentials') as excinfo:
        shell.run_line_magic(
            'imbi', f'connect --base-url http://user:{PASSWORD}@127.0.0.1:9/api'
        )
    assert PASSWORD not in str(excinfo.value)
    assert len(str(excinfo.value).splitlines()) == 1
    # Not stored: `%config ImbiMagics` shows the trait, which is unchanged.
    assert instance.base_url == before
    assert PASSWORD not in repr(shell.config)


def test_credentials_from_the_environment_are_refused_too(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('IMBI_CLIENT_API_TOKEN', 'ik_x_y')
    clean_env.setenv('IMBI_CLIENT_API_BASE_URL', f'http://u:{PASSWORD}@127.0.0.1:9')
    with pytest.raises(UsageError, match='must not contain credentials') as excinfo:
        shell.run_line_magic('imbi', 'whoami')
    assert PASSWORD not in str(excinfo.value)
