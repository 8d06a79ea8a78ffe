"""Apply one change to many projects: bounded, resumable, with a result table.

Examples:
    >>> from imbi_toolkit import bulk
    >>> results = await bulk.run(
    ...     client,
    ...     bulk.RecordDeployment('production', status='success', tag='1.2.3'),
    ...     [('eng', pid) for pid in project_ids],
    ...     journal='deploy-1.2.3.jsonl',
    ... )
    >>> results  # a table in a notebook; rerun the same call to finish
"""

from imbi_toolkit.bulk._journal import Journal, JournalError
from imbi_toolkit.bulk._operations import (
    ApplyPatch,
    CreateRelease,
    Operation,
    RecordDeployment,
)
from imbi_toolkit.bulk._plan import Plan, PlannedChange, apply, plan
from imbi_toolkit.bulk._results import Result, Results, Target
from imbi_toolkit.bulk._runner import DEFAULT_CONCURRENCY, run

__all__ = [
    'DEFAULT_CONCURRENCY',
    'ApplyPatch',
    'CreateRelease',
    'Journal',
    'JournalError',
    'Operation',
    'Plan',
    'PlannedChange',
    'RecordDeployment',
    'Result',
    'Results',
    'Target',
    'apply',
    'plan',
    'run',
]
