"""What `%load_ext imbi_toolkit` adds to a warm IPython, in milliseconds.

Each sample is a fresh interpreter that imports IPython, creates a shell and
runs one cell (so IPython itself is warm), then times one step:

- `baseline`: an empty cell (`pass`): a warm IPython without the extension;
- `lazy`: `%load_ext imbi_toolkit`, the extension as shipped;
- `eager`: `%load_ext imbi_toolkit` followed by what an eager extension would
  do at load: import httpx, pydantic-settings, pluggy, jsonpatch, the client
  and the plugin layer, and create the client.

Variants run interleaved (shuffled within each round) so that drift of the
machine hits all of them alike; medians are reported, with each variant's
ratio to the baseline and the added time (median minus the baseline's).
The budget is 40 ms added by `lazy`.

    .venv/bin/python benchmarks/bench_load_ext.py [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import typing

BUDGET_MS = 40.0
HEAVY = ('httpx', 'pydantic', 'pydantic_settings', 'jsonpatch', 'pluggy')

CHILD = r"""
import json, sys, time
HEAVY = %s
from traitlets.config import Config
from IPython.core.interactiveshell import InteractiveShell

config = Config()
config.HistoryManager.hist_file = ':memory:'
shell = InteractiveShell.instance(config=config)
shell.run_cell('pass', store_history=False)  # IPython is now warm
variant = sys.argv[1]
start = time.perf_counter()
if variant == 'baseline':
    shell.run_cell('pass', store_history=False)
elif variant == 'lazy':
    shell.run_line_magic('load_ext', 'imbi_toolkit')
elif variant == 'eager':
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    import httpx, jsonpatch, pluggy, pydantic_settings
    from imbi_toolkit.api import Imbi
    from imbi_toolkit import plugins
    Imbi(base_url='http://127.0.0.1:9', token='ik_benchmark')
elapsed = time.perf_counter() - start
heavy = [m for m in HEAVY if m in sys.modules]
print(json.dumps({'ms': elapsed * 1e3, 'heavy': heavy}))
"""

VARIANTS = ('baseline', 'lazy', 'eager')

# Installed packages load from cached bytecode; so must ours (the warm-up
# writes it), even where the environment turns bytecode writing off.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != 'PYTHONDONTWRITEBYTECODE'}


def sample(variant: str) -> dict[str, object]:
    """Run one fresh interpreter and return its timing."""
    completed = subprocess.run(
        [sys.executable, '-c', CHILD.replace('%s', repr(HEAVY), 1), variant],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=CHILD_ENV,
    )
    return typing.cast(
        dict[str, object], json.loads(completed.stdout.strip().splitlines()[-1])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=15, help='1..50 (default 15)')
    parser.add_argument('--json', action='store_true', help='print JSON')
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 50))
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    heavy: dict[str, list[str]] = {}
    rng = random.Random(6)
    for variant in VARIANTS:  # one unmeasured warm-up each (disk cache)
        sample(variant)
    for _ in range(rounds):
        order = list(VARIANTS)
        rng.shuffle(order)
        for variant in order:
            result = sample(variant)
            times[variant].append(float(result['ms']))  # type: ignore[arg-type]
            heavy[variant] = list(result['heavy'])  # type: ignore[call-overload]
    medians = {variant: statistics.median(values) for variant, values in times.items()}
    base = medians['baseline']
    report = {
        'rounds': rounds,
        'python': sys.version.split()[0],
        'median_ms': medians,
        'added_ms': {v: medians[v] - base for v in VARIANTS if v != 'baseline'},
        'ratio_to_baseline': {v: medians[v] / base for v in VARIANTS},
        'eager_over_lazy': medians['eager'] / medians['lazy'],
        'heavy_modules_after': heavy,
        'budget_ms': BUDGET_MS,
        'within_budget': medians['lazy'] - base <= BUDGET_MS,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f'%load_ext imbi_toolkit on a warm IPython, {rounds} interleaved rounds')
    print(f'{"variant":<10}{"median ms":>11}{"added ms":>10}{"x baseline":>12}')
    for variant in VARIANTS:
        added = medians[variant] - base
        print(
            f'{variant:<10}{medians[variant]:>11.2f}{added:>10.2f}'
            f'{medians[variant] / base:>12.1f}'
        )
    print(f'eager / lazy: {report["eager_over_lazy"]:.1f}x')
    print(f'heavy modules imported by lazy: {heavy["lazy"] or "none"}')
    verdict = 'within' if report['within_budget'] else 'OVER'
    added = medians['lazy'] - base
    print(f'lazy adds {added:.2f} ms: {verdict} the {BUDGET_MS:.0f} ms budget')
    return 0


if __name__ == '__main__':
    sys.exit(main())
