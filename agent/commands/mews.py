"""`kiosk-agent mews OPERATION --config F [--json '{...}']`: one Connector API call, JSON on stdout.

OPERATION is the spec's path after ``v1/``; ``--json`` holds only the operation's
own fields: AccessToken, ClientToken and Client come from the config. An API
error prints ``ClassName: message (Request-Id ...)`` on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from agent.cli import add_config_argument, load_config_or_exit

# Kept here as plain names so `--help` needs no client import; tests check them
# against agent.mews.client.OPERATIONS.
OPERATION_NAMES = (
    "app/signIn", "spaces/getAll", "resources/getAll", "reservations/getAll", "reservations/getAll/2023-06-06",
    "customers/getAll", "reservations/start", "reservations/process",
    "reservations/cancel", "customers/getBalance", "customers/getOpenItems", "customers/update",
    "payments/addCreditCard", "tasks/add", "commands/getAllActive", "commands/update",
)

EXAMPLES = """\
examples:
  kiosk-agent mews spaces/getAll --config config.toml
  kiosk-agent mews reservations/getAll --json '{"StartUtc": "2024-01-01T00:00:00Z", "EndUtc": "2024-01-02T00:00:00Z"}'
  kiosk-agent mews commands/update --json '{"CommandId": "...", "State": "Error", "Notes": "jammed"}'
  kiosk-agent mews app/signIn     (prints the new AccessToken; this displaces the running agent)
"""


def register(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = textwrap.fill("operations: " + ", ".join(OPERATION_NAMES), 78) + "\n\n" + EXAMPLES
    parser.add_argument("operation", metavar="OPERATION", help="the spec's path after v1/, e.g. spaces/getAll")
    parser.add_argument("--json", dest="body", metavar="'{...}'", default=None,
                        help="the operation's own fields as a JSON object (tokens and Client come from the config)")


def _usage_error(message: str) -> int:
    print(f"kiosk-agent mews: {message}", file=sys.stderr)
    return 2


def _parse_body(text: str | None) -> dict | str:
    """The --json object, or an error message."""
    if text is None:
        return {}
    try:
        body = json.loads(text)
    except ValueError as e:
        return f"--json is not valid JSON: {e}"
    except RecursionError:
        return "--json is nested too deeply"
    if not isinstance(body, dict):
        return "--json must be a JSON object, e.g. '{\"ReservationId\": \"...\"}'"
    return body


def main(args: argparse.Namespace) -> int:
    operation = args.operation
    if operation not in OPERATION_NAMES:
        import difflib

        close = difflib.get_close_matches(operation, OPERATION_NAMES, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return _usage_error(f"unknown operation {operation!r}{hint}; known: {', '.join(OPERATION_NAMES)}")
    body = _parse_body(args.body)
    if isinstance(body, str):
        return _usage_error(body)
    cfg = load_config_or_exit(args.config)

    from agent import logs
    from agent.mews.client import OPERATIONS, MewsClient
    from agent.mews.errors import CardNumberNotObfuscated, MewsError

    logs.setup(cfg.agent.log_level, cfg.secrets())
    missing = [name for name in OPERATIONS[operation] if name not in body]
    if missing:
        return _usage_error(f"{operation} needs {', '.join(missing)} in --json")
    try:
        with MewsClient(cfg.mews) as client:
            answer = client.call(operation, body)
    except MewsError as e:
        print(e.describe(), file=sys.stderr)
        return 1
    except CardNumberNotObfuscated as e:
        return _usage_error(str(e))
    except ValueError as e:
        return _usage_error(logs.redact(str(e)))
    # The AccessToken of app/signIn is printed on purpose (a technician may need it) but never logged.
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
