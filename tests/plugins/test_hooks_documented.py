"""docs/hooks.md documents every hook, with its exact signature and examples."""

from __future__ import annotations

import inspect
import pathlib
import re
import types

import pytest

from imbi_toolkit import hookspecs
from imbi_toolkit.plugins import PluginManager

DOCS = pathlib.Path(__file__).parents[2] / 'docs' / 'hooks.md'
HEADING = re.compile(r'^### (imbi_\w+)\((.*)\)$', re.MULTILINE)
CODE = re.compile(r'```python\n(.*?)```', re.DOTALL)


def specs() -> dict[str, inspect.Signature]:
    manager = PluginManager(trace=False)
    return {
        name: inspect.signature(getattr(hookspecs, name))
        for name in dir(manager.hook)
        if name.startswith('imbi_') and getattr(manager.hook, name).has_spec()
    }


def sections() -> dict[str, tuple[str, str]]:
    """Hook name -> (documented argument list, the section's text)."""
    text = DOCS.read_text()
    found = {}
    headings = list(HEADING.finditer(text))
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        end = following.start() if following else len(text)
        found[heading[1]] = (heading[2], text[heading.end() : end])
    return found


def test_every_hook_is_documented_and_nothing_else():
    assert sorted(sections()) == sorted(specs())
    assert list(hookspecs.HOOK_NAMES) == list(sections())


@pytest.mark.parametrize('name', hookspecs.HOOK_NAMES)
def test_documented_signature_is_the_hookspec(name):
    documented, _ = sections()[name]

    assert documented == ', '.join(specs()[name].parameters)


@pytest.mark.parametrize('name', hookspecs.HOOK_NAMES)
def test_every_argument_is_described(name):
    _, section = sections()[name]

    for argument in specs()[name].parameters:
        assert f'- `{argument}` (' in section, f'{name}: {argument} is not described'
    assert 'Return:' in section


@pytest.mark.parametrize('name', hookspecs.HOOK_NAMES)
def test_sync_and_async_examples_register_as_plugins(name):
    _, section = sections()[name]
    sync_part, _, async_part = section.partition('Async example:')
    [sync_code] = CODE.findall(sync_part.partition('Sync example:')[2])
    [async_code] = CODE.findall(async_part)

    for code, is_async in ((sync_code, False), (async_code, True)):
        module = types.ModuleType(f'example_{name}')
        exec(compile(code, f'docs/hooks.md:{name}', 'exec'), module.__dict__)
        implementation = getattr(module, name)
        assert inspect.iscoroutinefunction(implementation) is is_async
        # Registering checks the arguments against the hookspec.
        manager = PluginManager(trace=False)
        manager.register(module, name='example')
        assert [i.plugin for i in manager.implementations(name)] == ['example']
