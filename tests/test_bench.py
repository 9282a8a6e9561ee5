"""bench/bench_workloads.py's own parts, so the benchmark cannot rot unseen.

No figure is asserted here (speed belongs to bench/, printed): these tests
read captured wrk and /proc/net/netstat text with the script's parsers, check
its option handling and hold-out summary, and run its floor server for real.
"""

import http.client
import importlib
import os
import subprocess
import sys
import threading

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, BENCH)  # the script imports benchsupport from beside itself
    try:
        yield importlib.import_module("bench_workloads")
    finally:
        sys.path.remove(BENCH)


# Captured from `wrk -t1 -c20 -d1s --timeout 5s --latency` against refweb
# answering 404 to every request.
WRK_404 = """\
Running 1s test @ http://127.0.0.1:18011/missing
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.94ms    1.75ms  18.08ms   83.68%
    Req/Sec    11.17k     2.94k   14.86k    70.00%
  Latency Distribution
     50%    1.43ms
     75%    2.75ms
     90%    3.93ms
     99%    8.86ms
  11163 requests in 1.01s, 10.86MB read
  Non-2xx or 3xx responses: 11163
Requests/sec:  11100.65
Transfer/sec:     10.80MB
"""

# wrk's layout with socket errors and latencies in microseconds and seconds.
WRK_ERRORS = """\
Running 3s test @ http://127.0.0.1:8080/
  1 threads and 500 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   150.20ms  300.10ms   4.90s    91.00%
    Req/Sec     8.32k     1.20k   10.10k    70.00%
  Latency Distribution
     50%  870.00us
     75%   20.11ms
     90%  400.00ms
     99%    1.40s
  24969 requests in 3.00s, 3.10MB read
  Socket errors: connect 12, read 3, write 0, timeout 7
Requests/sec:   8323.30
Transfer/sec:      1.03MB
"""

NETSTAT = """\
TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPHPHits
TcpExt: 0 0 1121 1133 10
IpExt: InNoRoutes InTruncatedPkts ListenOverflows
IpExt: 0 0 99
"""


def test_wrk_report_with_non2xx(bench):
    figures = bench.parseWrk(WRK_404)
    assert figures == {
        "rate": 11100.65, "p50": 1.43, "p99": 8.86, "non2xx": 11163,
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}


def test_wrk_report_with_socket_errors_and_units(bench):
    figures = bench.parseWrk(WRK_ERRORS)
    assert figures["rate"] == 8323.30
    assert figures["p50"] == pytest.approx(0.87)
    assert figures["p99"] == pytest.approx(1400.0)
    assert figures["errors"] == {"connect": 12, "read": 3, "write": 0, "timeout": 7}
    assert figures["non2xx"] == 0


def test_wrk_report_that_is_empty_reads_as_nothing_measured(bench):
    figures = bench.parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    assert (figures["rate"], figures["p50"], figures["p99"]) == (0.0, None, None)


def test_netstat_reads_the_tcpext_counters_only(bench):
    counters = bench.parseNetstat(NETSTAT)
    assert counters["ListenOverflows"] == 1121
    assert counters["ListenDrops"] == 1133
    assert len(counters) == 5


def test_listen_counters_read_this_machine(bench):
    overflows, drops = bench.listenCounters()
    assert overflows >= 0 and drops >= 0
    assert bench.counterDelta((5, 7), (9, 7)) == (4, 0)


def test_the_16_mib_workload_reports_mib_per_second(bench):
    w4 = [w for w in bench.WORKLOADS if w.key == "W4"][0]
    w1 = [w for w in bench.WORKLOADS if w.key == "W1"][0]
    assert bench.throughput(w4, {"rate": 100.0}) == 1600.0
    assert bench.throughput(w1, {"rate": 100.0}) == 100.0


def test_holdout_summary(bench):
    row = bench.summariseHoldout({"latencies": [float(n) for n in range(100, 0, -1)],
                                  "errors": {"503": 3}, "refused": 1, "closedByServer": 2})
    assert (row["ok"], row["p50"], row["p99"], row["max"]) == (100, 51.0, 100.0, 100.0)
    assert row["errors"] == {"503": 3}
    empty = bench.summariseHoldout({"latencies": [], "errors": {}, "refused": 0,
                                    "closedByServer": 0})
    assert (empty["ok"], empty["p50"], empty["max"]) == (0, None, None)


def test_options(bench):
    quick = bench.parseOptions(["--quick", "--only", "w1,hold", "--servers", "refweb,floor"])
    assert (quick.duration, quick.warmup) == (3, 1)
    assert quick.only == ["W1", "HOLD"]
    assert quick.servers == ["refweb", "floor"]
    assert bench.parseOptions(["--quick", "--duration", "7"]).duration == 7
    assert bench.parseOptions([]).duration == 10
    with pytest.raises(SystemExit):
        bench.parseOptions(["--servers", "refweb,nginx"])


def test_floor_serves_hello_and_files(bench, tmp_path):
    """The floor answers keep-alive, Connection: close and a file, as the workloads need."""
    (tmp_path / "4k.bin").write_bytes(b"x" * 4096)
    port = bench.freePort()
    script = bench.script(str(tmp_path), "floor_server", bench.FLOOR)
    proc = subprocess.Popen([sys.executable, script, str(port)],
                            env=dict(os.environ, BENCH_DIR=str(tmp_path)))
    try:
        bench.waitForPort(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/")
        first = conn.getresponse()
        assert (first.status, first.read()) == (200, b"Hello, world!")
        conn.request("GET", "/4k.bin")  # the same connection: keep-alive
        second = conn.getresponse()
        assert (second.status, second.read()) == (200, b"x" * 4096)
        conn.request("GET", "/", headers={"Connection": "close"})
        last = conn.getresponse()
        assert (last.status, last.getheader("Connection"), last.read()) == (
            200, "close", b"Hello, world!")
        conn.close()
    finally:
        proc.kill()
        proc.wait()


def test_rounds_combine_into_medians_sums_and_a_spread(bench):
    def row(rate, p99, timeouts, overflows, peak):
        return {"rate": rate, "p50": 1.0, "p99": p99, "non2xx": 1, "overflows": overflows,
                "drops": overflows, "peakKiB": peak,
                "errors": {"connect": 0, "read": 0, "write": 0, "timeout": timeouts}}

    combined = bench.combineRounds([row(100.0, 9.0, 1, 0, 10), row(80.0, None, 0, 5, 30),
                                    row(120.0, 3.0, 2, 1, 20)])
    assert (combined["rate"], combined["spread"]) == (100.0, 40.0)
    assert (combined["p50"], combined["p99"]) == (1.0, 6.0)
    assert combined["errors"]["timeout"] == 3
    assert (combined["non2xx"], combined["overflows"], combined["peakKiB"]) == (3, 6, 30)
    assert bench.combineRounds([row(50.0, 2.0, 0, 0, 1)])["spread"] is None


def test_status_fields_of_this_process(bench):
    before = bench.threadCount(os.getpid())
    started, release = threading.Event(), threading.Event()
    worker = threading.Thread(target=lambda: (started.set(), release.wait()))
    worker.start()
    started.wait()
    try:
        assert bench.threadCount(os.getpid()) == before + 1
    finally:
        release.set()
        worker.join()
    assert bench.peakMemoryKiB(os.getpid()) > 1024


def test_every_server_has_a_command_for_every_kind(bench, tmp_path):
    """Site servers answer hello with a Resource script and files with their
    file server; WSGI servers run benchapps' hello and static applications."""
    pythons = {name: "/venv/%s/bin/python" % name for name in bench.SERVER_NAMES}
    workdir = str(tmp_path)

    def command(name, kind):
        return bench.serverCommand(name, kind, 8080, pythons, workdir)

    assert command("refweb", "hello")[1].endswith("refweb_hello.py")
    assert command("refweb", "static")[1:] == [str(tmp_path / "refweb_static.py"), "8080",
                                              str(tmp_path)]
    assert command("twisted", "static")[1:] == [str(tmp_path / "twisted_static.py"), "8080",
                                               str(tmp_path)]
    # WSGI: a script building what `web --wsgi` builds, without its access log.
    assert command("refweb-wsgi", "hello")[1:] == [str(tmp_path / "refweb_wsgi.py"),
                                                  "8080", "hello"]
    assert command("refweb-wsgi", "static")[-1] == "static"
    assert command("twisted-wsgi", "static")[0] == "/venv/twisted-wsgi/bin/python"
    assert command("twisted-wsgi", "static")[1:] == [str(tmp_path / "twisted_wsgi.py"),
                                                    "8080", "static"]
    assert command("twisted", "wsgi")[1:] == [str(tmp_path / "twisted_wsgi.py"), "8080", "hello"]
    assert command("cheroot", "static")[1:] == [str(tmp_path / "cheroot_server.py"),
                                               "8080", "static"]
    assert command("waitress", "hello")[-1] == "hello"
    assert command("baseline-wsgi", "hello")[1:] == command("refweb-wsgi", "hello")[1:]


def test_baseline_servers_follow_what_they_stand_beside(bench):
    """--baseline adds 'baseline', and 'baseline-wsgi' only beside refweb-wsgi;
    without it neither may be named."""
    both = bench.parseOptions(["--servers", "refweb,refweb-wsgi", "--baseline", "/tmp"])
    assert both.servers == ["refweb", "refweb-wsgi", "baseline", "baseline-wsgi"]
    site = bench.parseOptions(["--servers", "refweb", "--baseline", "/tmp"])
    assert site.servers == ["refweb", "baseline"]
    assert "cheroot" in bench.parseOptions([]).servers
    assert "baseline" not in bench.parseOptions([]).servers
    with pytest.raises(SystemExit):
        bench.parseOptions(["--servers", "refweb,baseline-wsgi"])


def test_summary_is_a_markdown_table_of_rates_and_p99(bench):
    """One row per workload, a req/s and a p99 column per server; a figure
    that counts failures is marked."""
    w1, w4 = [w for w in bench.WORKLOADS if w.key in ("W1", "W4")]

    def row(rate, p99):
        return {"rate": rate, "p99": p99}

    results = {"W1": {"refweb": row(8875.4, 105.2), "cheroot": row(4098.0, 3.14)},
               "W4": {"refweb": row(50.0, None), "cheroot": row(25.0, 12.0)}}
    lines = bench.summaryLines([w1, w4], results, ["refweb", "cheroot"])
    assert lines == [
        "| workload | refweb Site | p99 ms | cheroot | p99 ms |",
        "|---|---:|---:|---:|---:|",
        "| W1 hello, keep-alive, c=50 | 8875 | 105 | 4098 | 3.1 |",
        "| W4 16 MiB file, keep-alive, c=4 | 800 | - | 400 | 12 |",
    ]
    results["W1"]["cheroot"]["non2xx"] = 3  # failures count in the rate: marked
    lines = bench.summaryLines([w1], results, ["refweb", "cheroot"])
    assert lines[2] == "| W1 hello, keep-alive, c=50 | 8875 | 105 | 4098 * | 3.1 |"
    assert "with errors or answers not 2xx/3xx" in lines[-1]


def test_refweb_wsgi_serves_the_benchmark_applications(bench, tmp_path):
    """refweb-wsgi's script serving benchapps.static answers the 4 KiB file,
    and benchapps.hello the hello body, as W3 and W1 ask of refweb-wsgi."""
    (tmp_path / "4k.bin").write_bytes(b"y" * 4096)
    (tmp_path / "benchapps.py").write_text(bench.BENCHAPPS)
    root = os.path.dirname(BENCH)
    env = dict(os.environ, BENCH_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join([root, str(tmp_path)]))
    for kind, path, body in (("static", "/4k.bin", b"y" * 4096),
                             ("hello", "/", b"Hello, world!")):
        port = bench.freePort()
        argv = bench.serverCommand("refweb-wsgi", kind, port, {"refweb-wsgi": sys.executable},
                                   str(tmp_path))
        proc = subprocess.Popen(argv, cwd=str(tmp_path), env=env, stdout=subprocess.DEVNULL)
        try:
            bench.waitForPort(port, proc)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            answer = conn.getresponse()
            assert (answer.status, answer.read()) == (200, body)
            conn.close()
        finally:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------
# bench/bench_h2.py
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def benchH2():
    sys.path.insert(0, BENCH)
    try:
        yield importlib.import_module("bench_h2")
    finally:
        sys.path.remove(BENCH)


# The end of `h2load -t1 -c4 -m20 -D2 https://127.0.0.1:PORT/hello` against refweb.
H2LOAD = """\
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2

finished in 2.01s, 1744.50 req/s, 75.09KB/s
requests: 3489 total, 3569 started, 3489 done, 3489 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 3489 2xx, 0 3xx, 0 4xx, 0 5xx
"""


def test_h2load_report_read(benchH2):
    """h2load's protocol, req/s and request counts are read from its report;
    an empty report reads as nothing measured."""
    assert benchH2.parseH2load(H2LOAD) == {"protocol": "h2", "reqs": 1744.5, "done": 3489,
                                           "succeeded": 3489, "failed": 0}
    assert benchH2.parseH2load("")["reqs"] == 0.0


def test_h2_cells_and_ratios(benchH2):
    """A row not over h2, or with failures, is marked; ratios divide by Twisted's."""
    good = {"protocol": "h2", "reqs": 300.0, "failed": 0}
    assert benchH2.cell(good).strip() == "300"
    assert benchH2.cell(dict(good, protocol="h2c")).strip() == "300"  # cleartext HTTP/2
    assert benchH2.cell(dict(good, failed=3)).endswith("*")
    assert benchH2.cell(dict(good, protocol="http/1.1")).endswith("*")
    results = {"hello -c 4 -m 20": {"refweb-tls": good, "twisted-tls": dict(good, reqs=100.0)}}
    assert benchH2.ratioLines(results, ["refweb-tls", "twisted-tls"]) == [
        "hello -c 4 -m 20       refweb-tls/twisted 3.00"]


def test_h2_options_and_pinned_h2load(benchH2):
    """Servers are checked by name; h2load runs on CPU 1 when pinned."""
    options = benchH2.parseOptions(["--servers", "refweb-h2c", "--idle", "5"])
    assert options.servers == ["refweb-h2c"] and options.idle == 5
    with pytest.raises(SystemExit):
        benchH2.parseOptions(["--servers", "nginx"])
    argv = benchH2.h2loadCommand("http://x/", 4, 20, 3, 1, pin=True)
    assert argv[:3] == ["taskset", "-c", "1"] and "-c4" in argv and "-m20" in argv


def test_h2_baseline_runs_another_checkout(benchH2, tmp_path):
    """--baseline TREE adds baseline-h2c and baseline-tls, served from TREE,
    and their ratios against Twisted are printed too; without it they are
    refused, and so is a TREE from before HTTP/2."""
    with pytest.raises(SystemExit):
        benchH2.parseOptions(["--baseline", str(tmp_path)])  # no refweb/h2 in it
    benchH2.BASELINE.clear()
    (tmp_path / "refweb" / "h2").mkdir(parents=True)
    try:
        options = benchH2.parseOptions(["--baseline", str(tmp_path)])
        assert options.servers[-2:] == ["baseline-h2c", "baseline-tls"]
        assert benchH2.BASELINE["tree"] == str(tmp_path)
        argv, scheme = benchH2.serverCommand("baseline-h2c", 80, str(tmp_path), None)
        assert scheme == "http" and argv[2].startswith("tcp:")
    finally:
        benchH2.BASELINE.clear()
    with pytest.raises(SystemExit):
        benchH2.parseOptions(["--servers", "baseline-tls"])
    good = {"protocol": "h2", "reqs": 300.0, "failed": 0}
    results = {"row": {"baseline-tls": good, "twisted-tls": dict(good, reqs=100.0)}}
    assert benchH2.ratioLines(results, ["baseline-tls", "twisted-tls"]) == [
        "row                    baseline-tls/twisted 3.00"]


@pytest.mark.parametrize("name", ["refweb-h2c", "refweb-tls"])
def test_refweb_h2_server_takes_idle_connections(benchH2, tmp_path, name):
    """The bench's refweb server completes the HTTP/2 preface and SETTINGS
    (prior knowledge, or TLS with ALPN h2) and its idle memory is measured."""
    workdir = str(tmp_path)
    if name.endswith("tls"):
        from support import makeCertificate
        makeCertificate(workdir)
    proc, port, scheme = benchH2.startServer(name, workdir, None, pin=False)
    try:
        perConnection = benchH2.idleMemory(proc, port, scheme == "https", 3)
    finally:
        proc.kill()
        proc.wait()
    assert isinstance(perConnection, float)
