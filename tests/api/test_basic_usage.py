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
    # The block runs as written: its project id is the sandbox's billing-api,
    # the settings come from the environment like a user's.
    assert 'Imbi.from_settings(Settings())' in code
    assert f"'engineering',\n        {billing_api!r}," in code, (
        f"README's Basic usage must name billing-api by its id {billing_api!r}"
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
    release_id = result.stdout.strip()
    releases = http.get(
        f'/organizations/engineering/projects/{billing_api}/releases/',
        params={'tag': '1.2.3'},
    ).json()
    assert [(r['id'], r['committish'], r['title']) for r in releases] == [
        (release_id, 'a1b2c3d', 'v1.2.3')
    ]


def test_basic_usage_with_a_slug_gets_404(imbi_sandbox: SandboxProcess) -> None:
    # What the README warns about: paths take the project id, not its slug.
    http = httpx.Client(
        base_url=imbi_sandbox.base_url,
        headers={'Authorization': f'Bearer {imbi_sandbox.token}'},
    )
    response = http.post(
        '/organizations/engineering/projects/billing-api/releases/',
        json={'committish': 'a1b2c3d', 'title': 'v1.2.3', 'tag': '1.2.3'},
    )
    assert response.status_code == 404
    assert 'a slug gets `404 Not Found`' in README.read_text()


async def test_the_readme_way_to_find_an_id_from_a_slug(
    imbi_sandbox: SandboxProcess,
) -> None:
    text = README.read_text()
    assert "(await client.find_project('engineering', 'billing-api'))['id']" in text
    async with imbi_sandbox.client() as client:
        project_id = (await client.find_project('engineering', 'billing-api'))['id']

    assert f"{project_id!r},  # a project *id*: the sandbox's billing-api" in text
