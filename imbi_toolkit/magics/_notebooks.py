"""Run a notebook top to bottom in a real IPython kernel (tests and `make demo`).

The kernel is this interpreter's: a kernelspec written to a temporary
directory points at `sys.executable`, so the notebook sees exactly the
packages installed here, whatever kernels the machine has registered.

    imbi-toolkit notebook notebooks/quickstart.ipynb \\
        --output notebooks/executed/quickstart.ipynb

An embedded sandbox (`imbi_toolkit.sandbox._process.start_sandbox`) is
started for the run and stopped after it, and the kernel gets its
`IMBI_CLIENT_*` settings; `--use-environment` runs against the server the
environment names instead (the notebook writes to it!). Needs the `dev`
extra (nbclient, ipykernel).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import tempfile
import time
import typing
from collections import abc

if typing.TYPE_CHECKING:
    import nbformat

_KERNEL_NAME = 'imbi-toolkit-python'


@contextlib.contextmanager
def _kernel_manager() -> abc.Iterator[typing.Any]:
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix='imbi-toolkit-kernels-') as kernels:
        write_kernel_spec(os.path.join(kernels, _KERNEL_NAME))
        specs = KernelSpecManager(kernel_dirs=[kernels], ensure_native_kernel=False)
        yield KernelManager(
            kernel_name=_KERNEL_NAME,
            kernel_spec_manager=specs,
            # Unix sockets in this private directory: nothing listens on
            # TCP, and the kernel has no plain-text transport to warn about.
            transport='ipc' if os.name == 'posix' else 'tcp',
            connection_file=os.path.join(kernels, 'kernel.json'),
        )


def execute(
    path: str | os.PathLike[str] | nbformat.NotebookNode,
    *,
    env: abc.Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120,
) -> nbformat.NotebookNode:
    """Execute the notebook at `path` and return it with its outputs.

    Args:
        path: The `.ipynb` file (left unchanged), or a notebook, which is
            executed in place (its outputs are there even when a cell fails).
        env: The kernel's environment (default: this process's).
        cwd: The kernel's working directory (default: the notebook's folder,
            or the current directory for a notebook object).
        timeout: Seconds any one cell may take.

    Returns:
        The executed notebook.

    Raises:
        nbclient.exceptions.CellExecutionError: When a cell fails; the
            notebook stops there, as a user running it would.
    """
    import nbclient
    import nbformat

    if isinstance(path, nbformat.NotebookNode):
        notebook, folder = path, os.getcwd()
    else:
        notebook = nbformat.read(os.fspath(path), as_version=4)  # type: ignore[no-untyped-call]
        folder = str(pathlib.Path(path).parent)
    workdir = os.fspath(cwd) if cwd is not None else folder
    with _kernel_manager() as manager:
        client = nbclient.NotebookClient(
            notebook,
            km=manager,
            timeout=int(timeout),
            resources={'metadata': {'path': workdir}},
        )
        # The kernel is shut down (and waited for) before returning, also
        # after a failing cell: with a manager passed in, nbclient would
        # leave it running until this process exits.
        client.execute(env=dict(os.environ if env is None else env), cleanup_kc=True)
    return notebook


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Every output of every cell as text: streams, data, errors, tracebacks."""
    parts: list[str] = []
    for cell in notebook.cells:
        for output in cell.get('outputs', ()):
            parts.append(str(output.get('text', '')))
            for value in output.get('data', {}).values():
                parts.append(value if isinstance(value, str) else repr(value))
            parts.append(str(output.get('ename', '')))
            parts.append(str(output.get('evalue', '')))
            parts.extend(output.get('traceback', ()))
    return '\n'.join(parts)


def _first_line(text: str, width: int = 60) -> str:
    line = next((part for part in text.splitlines() if part.strip()), '')
    return line if len(line) <= width else line[: width - 1] + '…'


def _summary(cell: typing.Any) -> str:
    """One line for a code cell: its first line, then its first output line."""
    source = _first_line(cell.source)
    for output in cell.outputs:
        text = output.get('text') or output.get('data', {}).get('text/plain', '')
        if text:
            return f'{source}  ->  {_first_line(str(text))}'
    return source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `imbi-toolkit notebook`."""
    parser.add_argument('notebook', type=pathlib.Path)
    parser.add_argument('--output', type=pathlib.Path, required=True)
    parser.add_argument(
        '--use-environment',
        action='store_true',
        help='run against the IMBI_CLIENT_* server instead of a sandbox',
    )


def run(args: argparse.Namespace) -> int:
    """Run a notebook, against an embedded sandbox unless one is configured."""
    import nbformat

    env = dict(os.environ)
    sandbox = None
    if not args.use_environment:
        from imbi_toolkit.sandbox._process import start_sandbox

        sandbox = start_sandbox()
        env.update(sandbox.env())
        print(f'Started a demo sandbox at {sandbox.base_url}', flush=True)
    started = time.perf_counter()
    try:
        notebook = execute(args.notebook, env=env)
    finally:
        if sandbox is not None:
            sandbox.stop()
    elapsed = time.perf_counter() - started
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, os.fspath(args.output))  # type: ignore[no-untyped-call]
    code = [cell for cell in notebook.cells if cell.cell_type == 'code']
    for number, cell in enumerate(code, 1):
        print(f'[{number}] {_summary(cell)}')
    print(
        f'Ran {args.notebook}: {len(code)} code cells in {elapsed:.1f} s, no errors; '
        f'saved the executed notebook to {args.output}'
    )
    return 0
