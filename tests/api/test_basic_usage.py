"""The README's Basic Usage runs as written, against a real sandbox."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import textwrap

import httpx

from imbi_toolkit.testing import SandboxProcess

README = pathlib.Path(__file__).parents[2] / 'README.md'


def _basic_usage() -> str:
    text = README.read_text()
    section = text.split('## Basic usage', 1)[1]
    match = re.search(r'```python\n(.*?)```', section, re.DOTALL)
    assert match, 'README has no Basic usage code block'
    return match.group(1)


def test_basic_usage_creates_the_release(
    imbi_sandbox: SandboxProcess, tmp_path: pathlib.Path
) -> None:
    http = httpx.Client(
        base_url=imbi_sandbox.base_url,
        headers={'Authorization': f'Bearer {imbi_sandbox.token}'},
    )
    projects = http.get('/organizations/engineering/projects/').json()
    billing_api = next(p['id'] for p in projects if p['slug'] == 'billing-api')
    code = _basic_usage()
    assert "'my-org',\n        'my-project'," in code
    # The only change: the example's placeholders become a real project.
    code = code.replace("'my-org'", "'engineering'").replace(
        "'my-project'", repr(billing_api)
    )
    script = tmp_path / 'basic_usage.py'
    script.write_text(
        'import asyncio\n\n\nasync def main():\n'
        + textwrap.indent(code, '    ')
        + '\n\nasyncio.run(main())\n'
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        env={**imbi_sandbox.env(), 'PATH': '/usr/bin:/bin'},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    releases = http.get(
        f'/organizations/engineering/projects/{billing_api}/releases/',
        params={'tag': '1.2.3'},
    ).json()
    assert [(r['committish'], r['title']) for r in releases] == [('a1b2c3d', 'v1.2.3')]
