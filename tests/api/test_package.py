import imbi_toolkit
from imbi_toolkit import api


def test_public_names_resolve() -> None:
    assert imbi_toolkit.Imbi is api.Imbi
    assert imbi_toolkit.Settings is api.Settings
