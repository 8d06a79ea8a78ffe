"""Summarise a `make conformance` run and put it into docs/conformance.md.

Reads the JUnit XML files pytest wrote (`--junitxml`), groups the tests by
part (their module), and writes a Markdown section: when, against which
server, which organisation, and per part how many tests passed and which
failed (with the first line of each failure). With `--docs FILE`, the
section replaces what is between the `last-run` markers of that file.

    python scripts/conformance_report.py build/conformance/e2e.xml \\
        --server http://127.0.0.1:58000 --org e2e-... --docs docs/conformance.md
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import pathlib
import sys
import urllib.request
import xml.etree.ElementTree as ET

START = '<!-- last-run:start -->'
END = '<!-- last-run:end -->'

# Module of the tests -> the part of the run it checks.
PARTS = {
    'tests.e2e_real.test_notebooks': 'notebooks (notebooks/*.ipynb in a kernel)',
    'tests.e2e_real.test_bulk': (
        'bulk runner (ApplyPatch, CreateRelease, RecordDeployment, plan/apply)'
    ),
    'tests.e2e_real.test_plugins': (
        'plugin layer (semver, github + FakeGitHub, every hook)'
    ),
    'tests.e2e_real.test_magics': 'every %imbi magic (IPython shell)',
    'tests.e2e_real.test_service_account': 'a CI service account (whoami, bulk)',
    'tests.conformance.test_conformance': 'recorded exchanges vs the sandbox',
}


@dataclasses.dataclass
class Part:
    name: str
    passed: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)
    skipped: int = 0
    xfailed: int = 0
    seconds: float = 0.0


def read(paths: list[pathlib.Path]) -> dict[str, Part]:
    parts: dict[str, Part] = {}
    for path in paths:
        root = ET.parse(path).getroot()  # noqa: S314 - our own pytest output
        for case in root.iter('testcase'):
            # Module-level tests are named after their module, methods after
            # their class in it.
            module = case.get('classname') or ''
            if module not in PARTS:
                module = module.rsplit('.', 1)[0]
            part = parts.setdefault(module, Part(PARTS.get(module, module)))
            part.seconds += float(case.get('time') or 0)
            problem = case.find('failure')
            if problem is None:
                problem = case.find('error')
            skipped = case.find('skipped')
            if problem is not None:
                message = (problem.get('message') or problem.text or '').strip()
                first = message.splitlines()[0] if message else 'failed'
                part.failed.append(f'`{case.get("name")}`: {first[:200]}')
            elif skipped is not None:
                if (skipped.get('type') or '') == 'pytest.xfail':
                    part.xfailed += 1
                else:
                    part.skipped += 1
            else:
                part.passed += 1
    return parts


def server_version(base_url: str) -> str:
    try:
        with urllib.request.urlopen(f'{base_url}/openapi.json', timeout=10) as answer:  # noqa: S310 - the harness's local URL
            return str(json.load(answer)['info']['version'])
    except (OSError, ValueError, KeyError) as exc:
        return f'unknown ({exc})'


def section(parts: dict[str, Part], server: str, org: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')
    ok = all(not part.failed for part in parts.values())
    lines = [
        START,
        f'**Last run: {now}, {"PASSED" if ok else "FAILED"}.** Server: imbi-api '
        f'{server_version(server)} at {server} (the real-imbi harness), fresh '
        f'organisation `{org}`.',
        '',
        '| part | result | tests | time |',
        '|---|---|---|---|',
    ]
    for module in sorted(
        parts, key=lambda m: list(PARTS).index(m) if m in PARTS else 99
    ):
        part = parts[module]
        total = part.passed + len(part.failed) + part.skipped + part.xfailed
        extra = ''.join(
            f', {n} {what}'
            for n, what in ((part.skipped, 'skipped'), (part.xfailed, 'xfailed'))
            if n
        )
        result = 'fail' if part.failed else 'pass'
        lines.append(
            f'| {part.name} | **{result}** | {part.passed}/{total} passed{extra} '
            f'| {part.seconds:.0f} s |'
        )
    failures = [f'- {part.name}: {f}' for part in parts.values() for f in part.failed]
    if failures:
        lines += ['', 'Failures:', '', *failures]
    lines.append(END)
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('junit', nargs='+', type=pathlib.Path)
    parser.add_argument('--server', required=True, help='the API base URL')
    parser.add_argument('--org', required=True, help='the organisation used')
    parser.add_argument('--out', type=pathlib.Path, help='also write the section here')
    parser.add_argument(
        '--docs', type=pathlib.Path, help='replace its last-run section'
    )
    args = parser.parse_args(argv)
    found = [path for path in args.junit if path.exists()]
    if not found:
        print('no JUnit file to report on: did pytest run?', file=sys.stderr)
        return 1
    text = section(read(found), args.server.rstrip('/'), args.org)
    print(text)
    if args.out:
        args.out.write_text(text + '\n')
    if args.docs:
        document = args.docs.read_text()
        if START not in document or END not in document:
            print(f'{args.docs} has no {START} ... {END} markers', file=sys.stderr)
            return 1
        head, rest = document.split(START, 1)
        tail = rest.split(END, 1)[1]
        args.docs.write_text(head + text + tail)
    return 0


if __name__ == '__main__':
    sys.exit(main())
