"""``python -m axis_connector.vxp_standin``: run the stand-in alone (migrates its database first).

Systems and agencies come from ``--config FILE`` (JSON with ``SYSTEMS`` and ``AGENCIES``, see
docs/vxp.md) or the ``VXP_STANDIN_*`` environment variables.
"""

from __future__ import annotations

import argparse
from typing import Any

from werkzeug.serving import run_simple

from . import create_app, prepare


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m axis_connector.vxp_standin",
                                     description="Stand-in for the national axis's VXP protocol")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--db", help="database URL (default: VXP_STANDIN_DATABASE_URL or sqlite:///vxp-standin.db)")
    parser.add_argument("--config", help="JSON file with SYSTEMS, AGENCIES and any other setting")
    parser.add_argument("--trace-header", action="store_true",
                        help="add the axis's TraceHeader to delivered document packages")
    args = parser.parse_args(argv)
    config: dict[str, Any] = {}
    if args.db:
        config["DATABASE_URL"] = args.db
    if args.config:
        config["CONFIG_FILE"] = args.config
    if args.trace_header:
        config["ADD_TRACE_HEADER"] = True
    app = create_app(config)
    prepare(app)
    systems = ", ".join(app.extensions["vxp_standin"].settings.secrets) or "none"
    print(f"VXP stand-in on http://{args.host}:{args.port}/ (systems: {systems})", flush=True)
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
