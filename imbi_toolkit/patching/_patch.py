"""`Patch`: a JSON Patch as a list of RFC 6902 operation dicts."""

from __future__ import annotations

import json
import typing
from collections import abc

from imbi_toolkit.patching.secrets import masked_operation

if typing.TYPE_CHECKING:
    from IPython.lib.pretty import RepresentationPrinter

    from imbi_toolkit.patching._preview import Preview


class Patch(list[dict[str, typing.Any]]):
    """A JSON Patch: a list of operation dicts, ready for `json.dumps`.

    Being a `list`, it can be passed as is to `Imbi.patch_project`,
    `json.dumps` or `jsonpatch.apply_patch`. In a notebook it shows as a
    preview table; its `repr` masks secret values.

    Args:
        operations: Operation mappings; each is copied into a plain dict.
        before: The document the patch was computed against, if known; the
            preview uses it for the old values.
    """

    def __init__(
        self,
        operations: abc.Iterable[abc.Mapping[str, typing.Any]] = (),
        *,
        before: object = None,
    ) -> None:
        super().__init__(dict(operation) for operation in operations)
        self.before = before

    def to_json(self, **kwargs: typing.Any) -> str:
        """Serialise the operations (keyword arguments go to `json.dumps`)."""
        return json.dumps(list(self), **kwargs)

    def validate(self, document: object = None, *, imbi: bool = True) -> None:
        """Raise `PatchValidationError` if the patch must not be sent.

        See `imbi_toolkit.patching.validate`; `document` defaults to the one
        the patch was computed against.
        """
        from imbi_toolkit.patching._validation import validate

        current = self.before if document is None else document
        validate(
            self, typing.cast(abc.Mapping[str, typing.Any] | None, current), imbi=imbi
        )

    def apply(self, document: object) -> object:
        """Return `document` with the patch applied; the input is unchanged.

        Raises:
            PatchValidationError: When an operation does not fit.
        """
        from imbi_toolkit.patching._apply import apply_operations

        return apply_operations(document, self)

    def with_tests(self, before: object = None) -> Patch:
        """Return a copy guarded by `test` ops holding the old values.

        Each change is preceded by a `test` of the old value it changes:
        the path itself for an object member, the whole array for anything
        inside an array, the object for a new key (not at the top level).
        The server then answers 422 instead of overwriting a concurrent
        edit, and the copy is `replay_safe`.

        Args:
            before: The document the patch applies to (default: the one
                it was computed against).

        Raises:
            PatchValidationError: When an operation does not fit `before`.
        """
        from imbi_toolkit.patching._concurrency import with_tests

        document = self.before if before is None else before
        return Patch(with_tests(self, document), before=document)

    def replay_safe(self) -> bool:
        """Tell whether the patch may be sent again after its answer was
        lost (see `imbi_toolkit.patching.replay_safe`)."""
        from imbi_toolkit.patching._concurrency import replay_safe

        return replay_safe(self)

    def preview(self, before: object = None, *, width: int | None = None) -> Preview:
        """A table of the operations (HTML, Markdown and text forms)."""
        from imbi_toolkit.patching._preview import VALUE_WIDTH, Preview

        document = self.before if before is None else before
        return Preview(self, document, width=width or VALUE_WIDTH)

    def __repr__(self) -> str:
        shown = [masked_operation(operation) for operation in self]
        return f'Patch({json.dumps(shown, ensure_ascii=False, default=repr)})'

    def __str__(self) -> str:
        return str(self.preview())

    def _repr_pretty_(self, printer: RepresentationPrinter, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[no-untyped-call]

    def _repr_html_(self) -> str:
        return self.preview()._repr_html_()

    def _repr_markdown_(self) -> str:
        return self.preview()._repr_markdown_()
