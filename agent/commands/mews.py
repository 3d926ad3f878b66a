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

# Kept here as plain names so `--help` needs no client import; tests check them against
# agent.mews.operations (the seed generation's, then today's that the seed lacks). Which of
# them a config may call depends on its mews.generation.
OPERATION_NAMES = (
    "app/signIn", "spaces/getAll", "resources/getAll", "reservations/getAll", "reservations/getAll/2023-06-06",
    "customers/getAll", "reservations/start", "reservations/process",
    "reservations/cancel", "customers/getBalance", "customers/getOpenItems", "customers/update",
    "payments/addCreditCard", "tasks/add", "commands/getAllActive", "commands/update",
    "services/getAll", "resourceCategories/getAll", "resourceCategoryAssignments/getAll", "orderItems/getAll",
    "payments/getAll", "payments/addExternal", "identityDocuments/getAll", "identityDocuments/add",
    "identityDocuments/update", "commands/getAllByIds",
)

EXAMPLES = """\
examples:
  kiosk-agent mews resources/getAll --json '{"Extent": {"Resources": true}, "Limitation": {"Count": 100}}'
  kiosk-agent mews reservations/cancel --json '{"ReservationIds": ["..."], "PostCancellationFee": false}'
  kiosk-agent mews commands/update --json '{"CommandId": "...", "State": "Error", "Notes": "jammed"}'
seed generation (mews.generation = "seed"):
  kiosk-agent mews spaces/getAll --config config.toml
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

    from agent.mews.client import MewsClient
    from agent.mews.errors import CardNumberNotObfuscated, MewsError
    from agent.mews.operations import RETIRED, operations
    from agent.runtime import logs

    logs.setup(cfg.agent.log_level, cfg.secrets())
    spoken = operations(cfg.mews.generation)
    if operation not in spoken:
        why = f" ({RETIRED[operation]})" if cfg.mews.generation == "current" and operation in RETIRED else ""
        return _usage_error(f'{operation} is not an operation of mews.generation = "{cfg.mews.generation}"{why}; '
                            f"known: {', '.join(spoken)}")
    missing = [name for name in spoken[operation] if name not in body]
    if missing:
        return _usage_error(f"{operation} needs {', '.join(missing)} in --json")
    try:
        with MewsClient(cfg.mews) as client:
            answer = client.call(operation, body)
    except CardNumberNotObfuscated as e:  # a MewsError too: refused before sending, a usage error
        return _usage_error(str(e))
    except MewsError as e:
        print(e.describe(), file=sys.stderr)
        return 1
    except ValueError as e:
        return _usage_error(logs.redact(str(e)))
    # The AccessToken of app/signIn is printed on purpose (a technician may need it) but never logged.
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
