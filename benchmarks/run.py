"""Run every benchmark, print one table and write `benchmarks/RESULTS.md`.

`make bench` runs this. Each benchmark runs in a process of its own, with a
time limit, so that the whole run stays under 10 minutes and stops by itself;
one that fails or runs out of time is reported as such in the table, never
replaced by a number. Benchmarks owned by other parts of the project
(`bench_diff.py`, `bench_load_ext.py`, `bench_sandbox.py`) are called when
present and reported as missing when not.

    .venv/bin/python -m benchmarks.run [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import time
import typing

from benchmarks import common

RESULTS = os.path.join(common.REPO, 'benchmarks', 'RESULTS.md')
TOTAL_BUDGET_S = 570.0  # under 10 minutes, with room for the set-up

Json = dict[str, typing.Any]

# Stands for `--budget SECONDS` in a command until the seconds are known.
BUDGET = '{budget}'


@dataclasses.dataclass
class Section:
    """One benchmark's outcome: its report, or why there is none."""

    name: str
    command: list[str]
    report: Json | None = None
    text: str = ''
    problem: str = ''
    seconds: float = 0.0


def _command_text(command: list[str]) -> str:
    shown = ['.venv/bin/python' if part == sys.executable else part for part in command]
    return ' '.join(shown)


def run_section(
    name: str, command: list[str], timeout: float, *, parse_json: bool = True
) -> Section:
    """Run ``command`` (printing its progress) and keep its JSON output."""
    section = Section(name, command)
    print(f'== {name}: {_command_text(command)}', file=sys.stderr, flush=True)
    start = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            cwd=common.REPO,
            stdout=subprocess.PIPE,
            text=True,
            timeout=max(timeout, 5.0),
            check=False,
        )
    except subprocess.TimeoutExpired:
        section.problem = f'stopped after its {timeout:.0f} s time limit'
        return section
    finally:
        section.seconds = time.monotonic() - start
    if completed.returncode != 0:
        section.problem = f'failed (exit status {completed.returncode})'
        return section
    section.text = completed.stdout
    if parse_json:
        try:
            section.report = json.loads(completed.stdout)
        except ValueError:
            section.problem = 'printed no JSON report'
    return section


def _exists(script: str) -> bool:
    return os.path.exists(os.path.join(common.REPO, 'benchmarks', script))


DIFF_CHILD = """
import json
from benchmarks import bench_diff
rows = bench_diff.rows(sizes={sizes!r}, rounds={rounds}, budget_seconds={budget})
print(json.dumps({{'rows': rows, 'table': bench_diff.format_table(rows)}}))
"""


def run_all(quick: bool) -> list[Section]:
    """Run the benchmarks in turn, each within what is left of the budget."""
    python = sys.executable
    deadline = time.monotonic() + TOTAL_BUDGET_S
    # (name, command, share of the remaining budget it may use, JSON?)
    plan: list[tuple[str, list[str] | None, float, bool]] = []
    http = (
        ['--n', '600', '--rounds', '2'] if quick else ['--n', '1500', '--rounds', '9']
    )
    plan.append(
        (
            'bulk writes',
            [python, '-m', 'benchmarks.bench_http', *http, '--profile', BUDGET],
            0.45,
            True,
        )
    )
    bulk = ['--projects', '300', '--rounds', '1'] if quick else ['--rounds', '5']
    plan.append(
        (
            'latency hiding',
            [python, '-m', 'benchmarks.bench_bulk', *bulk, BUDGET],
            0.3,
            True,
        )
    )
    plan.append(
        (
            '%load_ext',
            [
                python,
                'benchmarks/bench_load_ext.py',
                '--json',
                '--rounds',
                '3' if quick else '9',
            ]
            if _exists('bench_load_ext.py')
            else None,
            0.3,
            True,
        )
    )
    # The project lists are the shapes of tracker issue 14 (the goal row's
    # worst ratios come from them); all of these take ~15 s at 5 rounds.
    sizes = (
        ['1.8 KiB', '30.9 KiB', 'projects x500']
        if quick
        else ['1.8 KiB', '30.9 KiB', '299 KiB', 'projects x500', 'projects x5000']
    )
    rounds, budget = (2, 10) if quick else (5, 60)
    plan.append(
        (
            'diff',
            [
                python,
                '-c',
                DIFF_CHILD.format(sizes=sizes, rounds=rounds, budget=budget),
            ]
            if _exists('bench_diff.py')
            else None,
            0.5,
            True,
        )
    )
    plugin = (
        ['--n', '300', '--rounds', '2'] if quick else ['--n', '1000', '--rounds', '7']
    )
    plan.append(
        (
            'plugin layer',
            [python, '-m', 'benchmarks.bench_plugins', *plugin, BUDGET],
            0.6,
            True,
        )
    )
    # Second to last: its rounds are long (~90 s each at 10,000 projects), so
    # it gets most of what is left; the sandbox's own takes ~15 s.
    scale = ['--projects', '1000', '--rounds', '1'] if quick else ['--rounds', '2']
    plan.append(
        (
            'scale',
            [python, '-m', 'benchmarks.bench_scale', *scale, BUDGET],
            0.8,
            True,
        )
    )
    plan.append(
        (
            'sandbox',
            [
                python,
                'benchmarks/bench_sandbox.py',
                *(
                    ['--rounds', '1', '--requests', '300']
                    if quick
                    else ['--rounds', '3', '--requests', '1000']
                ),
            ]
            if _exists('bench_sandbox.py')
            else None,
            1.0,
            False,
        )
    )
    sections = []
    for name, command, share, parse_json in plan:
        if command is None:
            sections.append(
                Section(name, [], problem='missing: the script is not there yet')
            )
            continue
        remaining = deadline - time.monotonic()
        if remaining < 10:
            sections.append(
                Section(name, command, problem='not run: the time budget was spent')
            )
            continue
        limit = remaining * share
        if BUDGET in command:
            # Our own scripts stop their rounds early by themselves, leaving
            # room for their set-up, profile and report within the limit.
            at = command.index(BUDGET)
            command = [*command[:at], '--budget', f'{limit * 0.6:.0f}']
        sections.append(run_section(name, command, limit, parse_json=parse_json))
    return sections


# -- the summary table ----------------------------------------------------

Row = tuple[str, str, str, str, str]  # benchmark, measured, result, goal, met


def _met(ok: bool | None) -> str:
    return '-' if ok is None else ('yes' if ok else 'NO')


def _http_row(rows: list[Json], client: str, concurrency: int) -> Json:
    return next(
        r for r in rows if r['client'] == client and r['concurrency'] == concurrency
    )


def summary(sections: dict[str, Section]) -> list[Row]:
    """One line per measured figure, with its goal."""
    table: list[Row] = []
    http = sections['bulk writes']
    # The anchors are the performance notes' figures (measured another day).
    anchors = {
        10: ('anchor 0.37x', 'anchor 0.16x'),
        1: ('anchor 0.54x', 'anchor 0.36x'),
    }
    if http.report:
        rows = http.report['rows']
        for concurrency in (10, 1):
            # The anchors are the performance notes' figures (another day).
            anchors = {
                10: ('anchor 0.37x', 'anchor 0.16x'),
                1: ('anchor 0.54x', 'anchor 0.36x'),
            }
            for client, goal in (
                ('imbi-toolkit[aiohttp]', '>= 0.5x' if concurrency == 10 else ''),
                ('imbi-toolkit', ''),
                ('httpx + httpx-aiohttp', anchors[concurrency][0]),
                ('httpx', anchors[concurrency][1]),
            ):
                row = _http_row(rows, client, concurrency)
                wall, cpu = row['ratio_vs_aiohttp'], row['cpu_ratio_vs_aiohttp']
                # Met only when both agree: on a busy machine the wall-clock
                # ratio can land on either side by luck; CPU time per
                # request is what throughput is on a quiet one.
                is_goal = goal.startswith('>=')
                met = _met(wall >= 0.5 and cpu >= 0.5) if is_goal else '-'
                if is_goal and wall >= 0.5 > cpu:
                    met = 'NO (wall only)'
                table.append(
                    (
                        f'1. create_release, {concurrency} in flight',
                        f'{client} / aiohttp',
                        f'{wall:.3f}x req/s, {cpu:.3f}x CPU per request '
                        f'({row["median_rps"]:.0f} req/s)',
                        goal,
                        met,
                    )
                )
    else:
        table.append(('1. create_release', '', http.problem, '>= 0.5x', 'NO'))
    bulk = sections['latency hiding']
    if bulk.report:
        for row in bulk.report['rows']:
            table.append(
                (
                    f'2. {bulk.report["patches"]} patches, bulk runner, '
                    f'{bulk.report["latency_ms"]} ms latency',
                    f'{row["backend"]} backend / ideal {bulk.report["ideal_s"]:.1f} s',
                    f'{row["ratio_vs_ideal"]:.3f}x ({row["median_s"]:.2f} s)',
                    f'<= {bulk.report["goal_max_ratio"]}x',
                    _met(row['ratio_vs_ideal'] <= bulk.report['goal_max_ratio']),
                )
            )
    else:
        table.append(('2. latency hiding', '', bulk.problem, '<= 1.15x', 'NO'))
    table += _scale_rows(sections['scale'])
    load = sections['%load_ext']
    if load.report:
        added = load.report['added_ms']['lazy']
        table.append(
            (
                '3. %load_ext imbi_toolkit, warm IPython',
                'added ms vs an empty cell',
                f'{added:.1f} ms (eager: {load.report["added_ms"]["eager"]:.0f} ms)',
                f'<= {load.report["budget_ms"]:.0f} ms',
                _met(added <= load.report['budget_ms']),
            )
        )
    else:
        table.append(('3. %load_ext', '', load.problem, '<= 40 ms', 'NO'))
    diff = sections['diff']
    if diff.report:
        rows = diff.report['rows']
        worst = max(rows, key=lambda r: r['ratio'])
        middle = common.median(r['ratio'] for r in rows)
        documents = ', '.join(dict.fromkeys(r['document'] for r in rows))
        table.append(
            (
                f'4. diff engine, {documents} documents',
                'engine / jsonpatch.make_patch',
                f'median {middle:.3f}x, worst {worst["ratio"]:.3f}x '
                f'({worst["case"]}, {worst["document"]})',
                '<= 0.1x, ops <= make_patch',
                _met(
                    worst['ratio'] <= 0.1
                    and all(r['ok'] for r in rows)
                    and all(r['ops'] <= r['make_patch_ops'] for r in rows)
                ),
            )
        )
    else:
        table.append(('4. diff', '', diff.problem, '', 'NO'))
    plugins = sections['plugin layer']
    if plugins.report:
        last = plugins.report['rows'][-1]
        table.append(
            (
                '5. release through the plugin layer',
                f'{plugins.report["plugins"]} no-op plugins / bare client',
                f'{last["ratio"]:.3f}x (+{last["added_cpu_us"]:.1f} us CPU per '
                'request)',
                f'<= {plugins.report["goal_max_ratio"]}x',
                _met(plugins.report['goal_met']),
            )
        )
    else:
        table.append(('5. plugin layer', '', plugins.problem, '<= 1.02x', 'NO'))
    sandbox = sections['sandbox']
    table.append(
        (
            '6. sandbox capacity',
            'see below',
            sandbox.problem or 'measured',
            '',
            '-' if not sandbox.problem else 'NO',
        )
    )
    return table


def _scale_rows(section: Section) -> list[Row]:
    report = section.report
    if not report:
        return [('2b. scale: plan and apply', '', section.problem, '', 'NO')]
    goals, met = report['goals'], report['goal_met']
    name = (
        f'2b. plan + apply {report["projects"]} projects, '
        f'{report["response_time_ms"]} ms server response time'
    )
    return [
        (
            name,
            f'apply, {report["backend"]} / ideal {report["ideal_s"]:.0f} s',
            f'{report["apply_ratio_vs_ideal"]:.3f}x ({report["apply_s"]:.1f} s)',
            f'<= {goals["apply_max_ratio"]}x',
            _met(met['apply']),
        ),
        (
            name,
            'planning CPU beyond fetching',
            f'{report["plan_cpu_beyond_fetch_s"]:.2f} s '
            f'({report["plan_cpu_beyond_fetch_us_per_project"]:.0f} us/project)',
            f'<= {goals["plan_cpu_beyond_fetch_max_s"]:.1f} s',
            _met(met['plan_cpu']),
        ),
        (
            name,
            "journal's share of the apply",
            f'{report["journal_share"]:.1%}',
            f'<= {goals["journal_max_share"]:.0%}',
            _met(met['journal']),
        ),
        (
            name,
            'peak RSS of the client',
            f'{report["peak_rss_mb"]:.0f} MB',
            f'<= {goals["peak_rss_max_mb"]:.0f} MB',
            _met(met['memory']),
        ),
    ]


def render(table: list[Row]) -> str:
    """The summary as a Markdown table (also readable in a terminal)."""
    header = ('benchmark', 'measured (same run)', 'result (medians)', 'goal', 'met')
    lines = ['| ' + ' | '.join(header) + ' |', '|---|---|---|---|---|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in table]
    return '\n'.join(lines)


# -- RESULTS.md -------------------------------------------------------------

VERSIONS = (
    'httpx',
    'httpcore',
    'h11',
    'anyio',
    'sniffio',
    'aiohttp',
    'httpx-aiohttp',
    'uvicorn',
    'httptools',
    'uvloop',
    'pluggy',
    'jsonpatch',
    'ipython',
    'pydantic-settings',
)

HTTP_NOTES = """\
How it is measured: a fresh client per configuration, 200 warm-up requests,
then N POSTs of the same 6-field release body from `c` workers, each
checking the 201 and parsing the JSON answer. `wall` ratios are throughput
ratios against plain aiohttp in the same round (median of the rounds); `CPU`
ratios compare the client process's CPU time per request the same way, which
moves less when other processes share the machine. The server runs on one
CPU, the client on the other (`sched_setaffinity`).

What `imbi-toolkit[aiohttp]` is: the same `Imbi` client (an
`httpx.AsyncClient`: same request building, hooks, retries, logging) with
`http_backend='aiohttp'`, which sends the bytes through
`imbi_toolkit.api.transports.AiohttpTransport` (answers up to 256 KiB read
whole on arrival; no TLS context for http). Every `Imbi` also skips httpx
work that changes nothing for it (`imbi_toolkit.api._lean`, each shortcut
checked against httpx's own result by the tests): the cookie-jar pass on
answers without `Set-Cookie` (~27 us per request); for a path plus an
optional JSON body, the URL re-parses and header re-copies of
`build_request` (~35 to ~12 us); and the reference cycle between a read
response and httpx's stream wrapper, which made the garbage collector run
every ~30 requests (~10-20 us per request).
"""

PROFILE_NOTES = """\
Where the time goes (cProfile of `create_release` at 10 in flight; shares of
the profiled time, so relative only). With httpcore, httpcore, anyio and h11
take the largest shares: the pool's bookkeeping on every request
(`_assign_requests_to_connections`, `is_idle`, socket polls), anyio's stream
wrappers and h11's pure-Python parser. With the aiohttp transport, those are
replaced by aiohttp's C-accelerated parser, and what remains is split between
aiohttp's own request path (which plain aiohttp also pays) and httpx's
request and response models (URL parsing and validation, header objects,
the body stream chain): the part a client that stays an `httpx.AsyncClient`
keeps paying.
"""


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return lines


def _http_section(section: Section) -> list[str]:
    lines = ['## 1. Bulk writes: `create_release` vs plain clients', '']
    lines += [f'Command: `{_command_text(section.command)}`', '']
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    report = section.report
    lines += [
        f'{report["requests"]} requests per configuration, {report["rounds"]} '
        f'rounds; server: {report["server"]} on CPU {report["server_cpu"]}, '
        f'client on CPU {report["client_cpu"]}; body {report["release_body_bytes"]} '
        f'bytes, answer {report["response_body_bytes"]} bytes.',
        '',
    ]
    lines += _table(
        [
            'client',
            'in flight',
            'req/s',
            'client CPU us/req',
            'x aiohttp (wall)',
            'x aiohttp (CPU)',
            'connections',
        ],
        [
            [
                r['client'],
                str(r['concurrency']),
                f'{r["median_rps"]:.0f}',
                f'{r["median_cpu_us"]:.0f}',
                f'{r["ratio_vs_aiohttp"]:.2f}',
                f'{r["cpu_ratio_vs_aiohttp"]:.2f}',
                ', '.join(str(c) for c in r['connections']),
            ]
            for r in report['rows']
        ],
    )
    goal = report.get('goal')
    if goal:
        by_key = {(r['client'], r['concurrency']): r for r in report['rows']}
        mine = by_key.get((goal['client'], goal['concurrency']))
        base = by_key.get(('aiohttp', goal['concurrency']))
        if mine and base:
            ratios = ', '.join(
                f'{a / b:.3f}'
                for a, b in zip(mine['rounds_rps'], base['rounds_rps'], strict=True)
            )
            lines += [
                '',
                f'Per-round req/s ratios, {goal["client"]} / aiohttp at '
                f'{goal["concurrency"]} in flight: {ratios} (median '
                f'{mine["ratio_vs_aiohttp"]:.3f}).',
            ]
    lines += ['', HTTP_NOTES]
    for profile in report.get('profiles', []):
        lines += [
            f'Profile, `{profile["backend"]}` backend: '
            f'{profile["function_calls_per_request"]:.0f} Python function calls '
            f'per request ({profile["us_per_request_profiled"]:.0f} us per '
            'request under the profiler).',
            '',
        ]
        shares = ', '.join(
            f'{name} {share:.0%}'
            for name, share in list(profile['share_by_package'].items())[:9]
        )
        steps = '; '.join(
            f'{step["step"].strip()} {step["us_per_request"]:.0f}'
            for step in profile.get('steps', [])
        )
        lines += [f'- steps, us per request under the profiler: {steps}']
        lines += [f'- by package: {shares}', '- top functions (own time): ']
        lines[-1] += '; '.join(
            f'`{f["function"]}` {f["share"]:.1%}' for f in profile['top_functions'][:8]
        )
        lines.append('')
    lines += [PROFILE_NOTES]
    return lines


def _bulk_section(section: Section) -> list[str]:
    lines = ['## 2. Latency hiding: patches through the bulk runner', '']
    lines += [f'Command: `{_command_text(section.command)}`', '']
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    report = section.report
    lines += [
        f'{report["patches"]} projects patched (`replace /description`) by '
        f'`imbi_toolkit.bulk.run` at {report["concurrency"]} in flight against '
        f'`imbi-toolkit sandbox --latency-ms {report["latency_ms"]}` (a copy of '
        'the demo seed with that many projects, on tmpfs); ideal '
        f'{report["ideal_s"]:.1f} s; {report["rounds"]} rounds, the two '
        'backends interleaved. Sandbox on CPU '
        f'{report["server_cpu"]}, client on CPU {report["client_cpu"]}.',
        '',
    ]
    lines += _table(
        [
            'backend',
            'median s',
            'x ideal',
            'rounds (s)',
            'round trip p50 / p90 ms',
            'client CPU us/patch',
            'sandbox CPU us/patch',
        ],
        [
            [
                r['backend'],
                f'{r["median_s"]:.2f}',
                f'{r["ratio_vs_ideal"]:.2f}',
                ', '.join(f'{x:.2f}' for x in r['rounds_s']),
                f'{r.get("round_trip_ms_p50", 0):.1f} / '
                f'{r.get("round_trip_ms_p90", 0):.1f}',
                f'{r.get("client_cpu_us_per_patch", 0):.0f}',
                f'{r.get("server_cpu_us_per_patch", 0):.0f}',
            ]
            for r in report['rows']
        ],
    )
    lines += [
        '',
        'The round trip is the time `Imbi.send` takes, answer read: 20 ms of '
        'latency (the sandbox answers 20 ms after handling a request, timed by '
        'a thread of its own rather than asyncio, whose millisecond timer waits '
        'ended ~1 ms late) plus what the client and the sandbox each spend per '
        'request (their CPU per patch is in the table; each handles requests one '
        'at a time, so a request also waits for the others in front of it). A '
        "patch's cycle is its round trip plus the runner's work between two "
        'requests.',
        '',
    ]
    return lines


def _scale_section(section: Section) -> list[str]:
    lines = ['## 2b. Scale: plan and apply one change to every project', '']
    lines += [f'Command: `{_command_text(section.command)}`', '']
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    r = section.report
    lines += [
        f'`imbi-toolkit sandbox --projects {r["projects"]} --response-time-ms '
        f'{r["response_time_ms"]}` (every answer leaves '
        f'{r["response_time_ms"]} ms after its request arrived, the '
        "sandbox's own handling included; API "
        f'{r.get("api_version", "?")}; started and '
        f'seeded in {r["seed_and_start_s"]:.1f} s, '
        f'its database on tmpfs), {r["concurrency"]} in flight, {r["backend"]} '
        f'backend, {r["rounds"]} round(s); sandbox on CPU {r["server_cpu"]}, '
        f'client on CPU {r["client_cpu"]}. Each round fetches every project '
        '(GET only), plans an edit of every project (new description and a '
        '`runbook` link, through an edit function) and applies the plan with a '
        'journal on disk.',
        '',
    ]
    lines += _table(
        ['step', 'median s', 'x ideal', 'client CPU s'],
        [
            [
                step,
                f'{r[step + "_s"]:.2f}',
                f'{r[step + "_s"] / r["ideal_s"]:.3f}',
                f'{r[step + "_cpu_s"]:.2f}',
            ]
            for step in ('fetch', 'plan', 'apply')
        ],
    )
    lines += [
        '',
        f'- planning CPU beyond fetching: {r["plan_cpu_beyond_fetch_s"]:.2f} s '
        f'({r["plan_cpu_beyond_fetch_us_per_project"]:.0f} us per project): the '
        "plan's process CPU time minus the fetch-only step's, both over the same "
        'projects and connections, so the requests cancel out;',
        f"- journal: {r['journal_share']:.1%} of the workers' time "
        f'({r["journal_blocking_s"]:.2f} s in the event loop, which every worker '
        f'waits for; {r["journal_waiting_s"]:.2f} s of workers awaiting a group '
        f'commit, each stopping one worker of {r["concurrency"]}); '
        f'{r["journal_bytes"] / 1e6:.1f} MB written;',
        f'- peak RSS of the client process: {r["peak_rss_mb"]:.0f} MB '
        '(`getrusage` high-water mark, the plan and results in memory).',
        '',
    ]
    return lines


def _load_section(section: Section) -> list[str]:
    lines = ['## 3. `%load_ext imbi_toolkit` in a warm IPython', '']
    lines += [f'Command: `{_command_text(section.command)}`', '']
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    report = section.report
    lines += _table(
        ['variant', 'median ms', 'added ms'],
        [
            [
                variant,
                f'{ms:.1f}',
                f'{report["added_ms"].get(variant, 0.0):.1f}',
            ]
            for variant, ms in report['median_ms'].items()
        ],
    )
    heavy = report.get('heavy_modules_after', {}).get('lazy') or 'none'
    lines += [
        '',
        f'{report["rounds"]} interleaved rounds of fresh interpreters '
        f'(`benchmarks/bench_load_ext.py`); heavy modules imported by the lazy '
        f'extension: {heavy}.',
        '',
    ]
    return lines


def _diff_section(section: Section) -> list[str]:
    lines = ['## 4. Diff: the patch engine vs `jsonpatch.make_patch`', '']
    code = next(
        (
            line.replace('rows = ', '')
            for line in (section.command or [''])[-1].splitlines()
            if line.startswith('rows = ')
        ),
        'bench_diff.rows()',
    )
    lines += [
        f'Command: `{code}` (`benchmarks/bench_diff.py`, called by the runner '
        'in a process of its own; the 5.5 MiB document is left out to keep '
        '`make bench` under 10 minutes)',
        '',
    ]
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    return [*lines, section.report['table'], '']


def _plugin_section(section: Section) -> list[str]:
    lines = ['## 5. Plugin layer: `Toolkit` with no-op plugins vs the bare client', '']
    lines += [f'Command: `{_command_text(section.command)}`', '']
    if not section.report:
        return [*lines, f'Not measured: {section.problem}.', '']
    report = section.report
    lines += _table(
        [
            'variant',
            'loopback CPU us/req',
            'x bare (loopback CPU)',
            'x bare (loopback wall)',
            'in-process CPU us/req',
            'added us',
            'x bare (headline)',
        ],
        [
            [
                r['variant'],
                f'{r["loopback_cpu_us"]:.0f}',
                f'{r["loopback_cpu_ratio"]:.3f}',
                f'{r["loopback_wall_ratio"]:.3f}',
                f'{r["in_process_cpu_us"]:.1f}',
                f'{r["added_cpu_us"]:+.1f}',
                f'{r["ratio"]:.3f}',
            ]
            for r in report['rows']
        ],
    )
    lines += [
        '',
        f'{report["requests"]} sequential releases per variant and round, '
        f'{report["rounds"]} rounds. Headline: (bare loopback request + the '
        "layer's added CPU measured in process) / bare loopback request; the "
        'loopback ratios alone move by more than the layer costs.',
        '',
    ]
    return lines


def _sandbox_section(section: Section) -> list[str]:
    lines = ["## 6. Sandbox capacity (the sandbox's own benchmark)", '']
    if section.command:
        lines += [f'Command: `{_command_text(section.command)}`', '']
    if section.problem:
        return [*lines, f'Not measured: {section.problem}.', '']
    return [*lines, '```', section.text.strip(), '```', '']


def write_results(
    sections: dict[str, Section], table: list[Row], info: Json, path: str
) -> None:
    """Write RESULTS.md with the machine, versions, commands and figures."""
    lines = [
        '# Benchmark results',
        '',
        f'Written by `make bench` (`.venv/bin/python -m benchmarks.run`) on '
        f'{info["date"]} at commit `{info["commit"]}`, in '
        f'{info["seconds"]:.0f} s. Every figure is a median; every ratio is the '
        'median of the ratios taken within each round of the same run.',
        '',
        '## Machine',
        '',
        f'- {info["machine"]["cpu"]}, {info["machine"]["cpus"]} CPUs, '
        f'{info["machine"]["platform"]}, Python {info["machine"]["python"]}',
        f'- load average before / after: {info["load_before"]} / '
        f'{info["machine"]["load_average"]} (the machine is shared: absolute '
        'figures move a lot from run to run, ratios less)',
        '- versions: '
        + ', '.join(f'{name} {version}' for name, version in info['versions'].items()),
        '',
        '## Summary',
        '',
        render(table),
        '',
        'Time taken: '
        + ', '.join(
            f'{section.name} {section.seconds:.0f} s'
            for section in sections.values()
            if section.command
        )
        + '.',
        '',
    ]
    lines += _http_section(sections['bulk writes'])
    lines += _bulk_section(sections['latency hiding'])
    lines += _scale_section(sections['scale'])
    lines += _load_section(sections['%load_ext'])
    lines += _diff_section(sections['diff'])
    lines += _plugin_section(sections['plugin layer'])
    lines += _sandbox_section(sections['sandbox'])
    with open(path, 'w', encoding='utf-8') as out:
        out.write('\n'.join(lines).rstrip() + '\n')


README = os.path.join(common.REPO, 'README.md')
README_START, README_END = '<!-- bench:start -->', '<!-- bench:end -->'


def update_readme(table: list[Row], info: Json, path: str) -> bool:
    """Put the summary table between the README's bench markers.

    Returns:
        Whether the README has the markers (and was updated).
    """
    with open(path, encoding='utf-8') as readme:
        text = readme.read()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    block = [
        README_START,
        f'From the run of {info["date"]} (commit `{info["commit"]}`, load average '
        f'{info["load_before"]} / {info["machine"]["load_average"]} on a shared '
        f'{info["machine"]["cpus"]}-CPU machine); medians, each ratio taken within '
        'the same run:',
        '',
        render(table),
    ]
    text = text[:start] + '\n'.join(block) + '\n' + text[end:]
    with open(path, 'w', encoding='utf-8') as readme:
        readme.write(text)
    return True


def _commit() -> str:
    try:
        return subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'],
            cwd=common.REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='fewer, shorter rounds')
    parser.add_argument(
        '--no-write', action='store_true', help='print only; leave RESULTS.md'
    )
    args = parser.parse_args()
    start = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    sections = {section.name: section for section in run_all(args.quick)}
    table = summary(sections)
    print()
    print(render(table))
    info = {
        'date': datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC'),
        'commit': _commit(),
        'seconds': time.monotonic() - start,
        'machine': common.machine(),
        'load_before': load_before,
        'versions': common.versions(*VERSIONS),
    }
    if not args.no_write and not args.quick:
        write_results(sections, table, info, RESULTS)
        print(f'\nWrote {os.path.relpath(RESULTS, common.REPO)}')
        if update_readme(table, info, README):
            print('Updated the table in README.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
