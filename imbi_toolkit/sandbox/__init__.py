"""A local Imbi API sandbox: the real API's routes, rules and errors, on SQLite.

Run it with ``imbi-toolkit sandbox`` (needs the ``imbi-toolkit[sandbox]``
extra) or, in tests, through the ``imbi_sandbox`` pytest fixture from
:mod:`imbi_toolkit.testing`. Importing this package is free of the server's
dependencies; :func:`imbi_toolkit.sandbox.app.create_app` builds the
application.
"""
