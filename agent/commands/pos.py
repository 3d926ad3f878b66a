"""`kiosk-agent pos status|products|methods|deposit|transactions|pay --config F [--json]`.

stdout carries only the result (JSON with ``--json``); logs go to stderr.
Exit 0 on success, 1 when the gateway or a device failed, 2 on usage or config
errors. ``pay`` exits 0 only when the sale is booked; its JSON has ``"result"``
one of "booked", "not booked", "unknown" and the transaction ids when booked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from agent.cli import add_config_argument, load_config_or_exit

EXAMPLES = """\
examples:
  kiosk-agent pos status --config config.toml
  kiosk-agent pos products --json
  kiosk-agent pos pay --pos 1 --method 1 --item 3x2 --item 7x1
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXAMPLES
    sub = parser.add_subparsers(dest="pos_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, pos: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_config_argument(p)
        p.add_argument("--json", action="store_true", help="print JSON")
        if pos:
            p.add_argument("--pos", type=int, default=None, metavar="N", help="point of sale (default pos.pos_id)")
        return p

    action("status", "shard, server version, service status and license")
    action("products", "products of the point of sale", pos=True)
    action("methods", "payment methods of the point of sale", pos=True)
    action("deposit", "the deposit price")
    p = action("transactions", "newest transactions of the point of sale", pos=True)
    p.add_argument("--limit", type=int, default=20, metavar="N", help="how many (0 = all; default 20)")
    p = action("pay", "sell items: payitems once, outcome checked, receipt printed", pos=True)
    p.add_argument("--method", type=int, required=True, metavar="ID", help="payment method id")
    p.add_argument("--item", action="append", required=True, metavar="IDxN",
                   help="product id and amount, e.g. 3x2; a bare id (3) is one item (repeatable)")
    p.add_argument("--no-receipt", action="store_true", help="do not print a receipt")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="resends allowed after a sale is proven not booked (default 1)")


def _fail(message: str, code: int) -> int:
    print(f"kiosk-agent pos: {message}", file=sys.stderr)
    return code


def _emit(args, data, text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def main(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    if cfg.pos is None:
        print(f"kiosk-agent: config error: {cfg.path}: pos: the [pos] table is missing", file=sys.stderr)
        return 2

    from agent.pos.client import PosClient
    from agent.pos.errors import InvalidRequest, PosError
    from agent.runtime import logs

    logs.setup(cfg.agent.log_level, cfg.secrets())
    if getattr(args, "pos", None) is not None and args.pos < 0:
        return _fail("--pos must be 0 or more", 2)
    try:
        with PosClient(cfg.pos, state_dir=cfg.state_dir) as client:
            return ACTIONS[args.pos_command](args, cfg, client)
    except InvalidRequest as e:
        return _fail(logs.redact(str(e)), 2)
    except PosError as e:
        return _fail(f"{type(e).__name__}: {logs.redact(str(e))}", 1)


def _status(args, cfg, client) -> int:
    version = client.version()
    status = client.get_status()
    license = client.get_license()
    data = {"instance": cfg.pos.instance, "shard": client.shard, "version": version,
            "status": status.status, "message": status.message, "license": license.public(),
            "license_active": license.active}
    text = (f"instance {cfg.pos.instance} via shard {client.shard}, server {version}\n"
            f"status: {status.status} - {status.message}\n"
            f"license: {'active' if license.active else 'INACTIVE'} {license.name} {license.type}".rstrip())
    _emit(args, data, text)
    return 0 if license.active else 1


def _unknown_pos(args, client) -> int | None:
    """Exit 1 with the known ids when --pos names no point of sale of the gateway (None: fine)."""
    if args.pos is None:
        return None
    known = sorted(p.id for p in client.list_pos())
    if args.pos in known:
        return None
    return _fail(f"no point of sale {args.pos} on this gateway (known: {', '.join(map(str, known)) or 'none'})", 1)


def _products(args, cfg, client) -> int:
    if (code := _unknown_pos(args, client)) is not None:
        return code
    products = client.list_products(args.pos)
    rows = [f"{p.id:>5}  {p.price:>8.2f}  {'+deposit' if p.deposit else '        '}  {p.name}" for p in products]
    _emit(args, [p.raw for p in products], "\n".join(rows) or "(no products)")
    return 0


def _methods(args, cfg, client) -> int:
    if (code := _unknown_pos(args, client)) is not None:
        return code
    methods = client.list_payment_methods(args.pos)
    _emit(args, [m.raw for m in methods], "\n".join(f"{m.id:>5}  {m.name}" for m in methods) or "(no methods)")
    return 0


def _deposit(args, cfg, client) -> int:
    deposit = client.get_deposit()
    _emit(args, deposit.raw, f"deposit {deposit.price:.2f}")
    return 0


def _transactions(args, cfg, client) -> int:
    if args.limit < 0:
        return _fail("--limit must be 0 or more", 2)
    if (code := _unknown_pos(args, client)) is not None:
        return code
    txs = client.list_transactions(args.pos, limit=args.limit or None)
    rows = [f"{t.id:>7}  {t.timestamp.isoformat() if t.timestamp else '-':<32}  POS {t.pos_id}  "
            f"method {t.payment_id}  {t.amount_product} x product {t.product_id}  {t.amount_money:.2f}  "
            f"{t.hash[:8]}" for t in txs]
    _emit(args, [t.raw for t in txs], "\n".join(rows) or "(no transactions)")
    return 0


@contextlib.contextmanager
def _interrupts_deferred(on_interrupt):
    """While a sale runs, Ctrl-C (SIGINT) is noted instead of raised: leaving before the
    outcome is known could make the next try charge twice. Yields a list that gets True."""
    seen: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen  # signals only reach the main thread; nothing to defer here
        return

    def note(signum, frame):
        seen.append(True)
        on_interrupt()

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def _pay(args, cfg, client) -> int:
    from agent.pos.errors import PosError
    from agent.pos.sale import NOT_BOOKED, SaleResult, Seller, merge_lines, parse_item

    lines = merge_lines(parse_item(x) for x in args.item)
    if args.retries < 0:
        return _fail("--retries must be 0 or more", 2)
    pos_id = cfg.pos.pos_id if args.pos is None else args.pos
    products, methods, deposit, problem = {}, {}, None, ""
    try:
        products = {p.id: p for p in client.list_products(pos_id)}
        methods = {m.id: m for m in client.list_payment_methods(pos_id)}
        unknown = [x.product_id for x in lines if x.product_id not in products]
        if args.method not in methods:
            problem = f"payment method {args.method} is not offered at POS {pos_id} (known: {sorted(methods)})"
        elif unknown:
            problem = f"product(s) {', '.join(map(str, unknown))} not sold at POS {pos_id} (known: {sorted(products)})"
        elif any(products[x.product_id].deposit for x in lines):
            deposit = client.get_deposit()
    except PosError as e:
        problem = f"{type(e).__name__}: {e}"
    if problem:
        return _pay_outcome(args, cfg, client, products, methods, deposit, pos_id,
                            SaleResult(NOT_BOOKED, pos_id, args.method, lines, reason=f"nothing was sent: {problem}"))
    seller = Seller(client, retries=args.retries)

    def interrupted():
        seller.retries = 0  # the user wants out: never send the sale again
        print("kiosk-agent pos: interrupted; waiting for the sale's outcome before exiting "
              "(leaving now could charge twice on the next try)", file=sys.stderr, flush=True)

    with _interrupts_deferred(interrupted) as seen:
        sale = seller.pay(pos_id, args.method, lines)
        code = _pay_outcome(args, cfg, client, products, methods, deposit, pos_id, sale)
    return 130 if seen else code


def _pay_outcome(args, cfg, client, products, methods, deposit, pos_id, sale) -> int:
    """Print the receipt when booked, then the outcome; exit code 0 only when booked."""
    from agent.pos.errors import PosError
    from agent.pos.receipt import ReceiptNotPrinted, render_receipt, width_for

    out = sale.to_json()
    if sale.booked and not args.no_receipt and cfg.printer is not None:
        try:
            pos_name = client.pos_name(pos_id)
        except PosError:
            pos_name = ""  # the heading falls back to "POS n"; the sale stands
        text = render_receipt(sale, products=products, method=methods.get(args.method), deposit=deposit,
                              tz=cfg.agent.timezone, title=cfg.pos.instance, width=width_for(cfg.printer),
                              pos_name=pos_name)
        try:
            _print_receipt(cfg, text)
            out["receipt"] = "printed"
        except ReceiptNotPrinted as e:
            out["receipt"] = f"not printed: {e}"
            print(f"kiosk-agent pos: the sale is booked but the receipt was not printed: {e}", file=sys.stderr)
    elif sale.booked:
        out["receipt"] = "not printed: " + ("--no-receipt" if args.no_receipt else "no [printer] configured")
    text = sale.result
    if sale.booked:
        text += f": transactions {', '.join(str(t.id) for t in sale.transactions) or '(ids unavailable)'}, " \
                f"total {sale.total:.2f}"
    if sale.reason:
        text += f" ({sale.reason})"
    for w in sale.warnings:
        print(f"kiosk-agent pos: warning: {w}", file=sys.stderr)
    _emit(args, out, text)
    return 0 if sale.booked else 1


def _print_receipt(cfg, text: str) -> None:
    """Print through the running agent's printer (one owner per device); directly only when none runs."""
    from agent.control.client import AgentNotAnswering, ask
    from agent.control.protocol import Request
    from agent.pos.receipt import RECEIPT_WAIT, ReceiptNotPrinted, job_data, print_receipt

    try:
        answer = ask(cfg.state_dir, Request(op="job", kind="print_document", data=job_data(text), wait=RECEIPT_WAIT))
    except AgentNotAnswering as e:
        raise ReceiptNotPrinted(f"the running agent holds the printer but did not answer: {e}") from None
    if answer is None:
        print_receipt(cfg, text)
    elif answer.status != "done":
        raise ReceiptNotPrinted(answer.detail or answer.status)


ACTIONS = {"status": _status, "products": _products, "methods": _methods, "deposit": _deposit,
           "transactions": _transactions, "pay": _pay}
