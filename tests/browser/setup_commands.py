"""The browser servers' setup: several ``flask --app wsgi`` commands run in one process.

``python -m tests.browser.setup_commands '[["db", "upgrade"], ["pki", "init"], ...]'`` runs each
command through Flask's own command line (``flask.cli.cli``, as the ``flask`` script does), in
order, and stops at the first that fails. Each ``flask`` process spent 3-4 s (more on a busy
machine) importing the app before doing anything: four of them were half of a live server's
setup.

As the unit tests' demo load does (``tests/conftest.py``: ``_load_demo``), the demo accounts
share one argon2 hash of their password (each hash is ~0.2 s and 64 MiB, 38 of them were 7.5 s
of the server's start): logging in verifies it exactly as before (the hash carries its salt and
parameters); a password set later through the running server is hashed as in production.
"""

from __future__ import annotations

import functools
import json
import sys


def main(argv: list[str]) -> int:
    from flask.cli import cli

    from ioffice.agencies import service

    service.hash_password = functools.cache(service.hash_password)
    commands: list[list[str]] = json.loads(argv[0])
    app = argv[1] if len(argv) > 1 else "wsgi"
    for command in commands:
        print(f"== flask --app {app} {' '.join(command)}", flush=True)
        # standalone_mode=False: an error propagates (a traceback, exit status 1), an Exit's
        # status is returned
        status = cli.main(args=["--app", app, *command], prog_name="flask", standalone_mode=False)
        if isinstance(status, int) and status != 0:
            print(f"flask {' '.join(command)} exited with {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
