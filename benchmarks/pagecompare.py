"""Two trees' list pages and case page against the page floor, side by side in one run (issue 17 item 5).

    .venv/bin/python -m benchmarks.pagecompare --before /work/main [--url URL] [--repeat 21]

Starts one worker process per tree (the `--before` checkout and this one), each with its own
app on the same data set, logged in as the benchmark's court admin, and asks them in turn —
the order alternating every round — to time one request of a page and one run of its page
floor (pagefloor.py). So both trees are measured under the same load at the same moments,
which on a shared machine matters more than any single figure. Prints, per page: each
tree's median and its ratio to its own floor, the Python function calls of one request
(cProfile), a measure the machine's load does not move, and the SQL statements it runs.
The pages: the case list's first page, a status filter and a deep page (floor: list_floor),
and the case page of casepage.py (floor: any_floor, its data statements).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def serve(url: str) -> None:
    """Worker: answer "app PAGE" / "floor PAGE" / "calls PAGE" with milliseconds (or a count)."""
    import cProfile
    import logging
    import pstats
    import time

    import sqlalchemy as sa

    from benchmarks.casepage import case_id
    from benchmarks.cases import LIST_URL, PAGE_FLOOR_QUERIES, QUERIES
    from benchmarks.pagefloor import any_floor, list_floor
    from benchmarks.run import make_context

    logging.disable(logging.CRITICAL)
    ctx = make_context(url, 1)
    paths = {page: LIST_URL + QUERIES[page] for page in PAGE_FLOOR_QUERIES}
    floors = {page: list_floor(ctx, path) for page, path in paths.items()}
    paths["case page"] = f"/case/{case_id(ctx)}"
    floors["case page"] = any_floor(ctx, paths["case page"])
    for page, path in paths.items():
        for _ in range(3):  # warm
            assert ctx.client.get(path).status_code == 200
            floors[page]()
    print("READY " + json.dumps(list(paths)), flush=True)
    for line in sys.stdin:
        what, page = line.rstrip("\n").split(" ", 1)
        path = paths[page]
        if what == "statements":
            seen = []

            def count(*_args):
                seen.append(1)

            sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
            ctx.client.get(path)
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
            print(len(seen), flush=True)
            continue
        if what == "calls":
            prof = cProfile.Profile()
            prof.enable()
            ctx.client.get(path)
            prof.disable()
            print(pstats.Stats(prof).total_calls, flush=True)
            continue
        t0 = time.perf_counter()
        if what == "app":
            assert ctx.client.get(path).status_code == 200
        else:
            floors[page]()
        print((time.perf_counter() - t0) * 1000, flush=True)


class Worker:
    def __init__(self, tree: str, url: str):
        env = {**os.environ, "PYTHONPATH": tree}
        # this file by path: the other checkout may not have it
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", "--url", url],
                                     cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        while line and not line.startswith("READY "):
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker in {tree} did not start")
        self.pages = json.loads(line[len("READY "):])

    def ask(self, what: str, page: str) -> float:
        self.proc.stdin.write(f"{what} {page}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        while line and not line.strip().replace(".", "", 1).isdigit():
            line = self.proc.stdout.readline()  # a stray print of the app
        return float(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", help="the other checkout (e.g. /work/main)")
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL",
                                                   f"sqlite:///{HERE}/benchmarks/data/bench-20k.db"))
    p.add_argument("--repeat", type=int, default=21)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.serve:
        sys.path[0] = os.getcwd()  # the worker's checkout, not this file's
        serve(a.url)
        return
    trees = {"before": Worker(os.path.abspath(a.before), a.url), "after": Worker(HERE, a.url)}
    load0 = os.getloadavg()
    rows = []
    for page in trees["after"].pages:
        times = {name: {"app": [], "floor": []} for name in trees}
        for i in range(a.repeat):
            order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
            for name, w in order:
                times[name]["app"].append(w.ask("app", page))
                times[name]["floor"].append(w.ask("floor", page))
        calls = {name: int(w.ask("calls", page)) for name, w in trees.items()}
        statements = {name: int(w.ask("statements", page)) for name, w in trees.items()}
        cells = []
        for name in trees:
            app_ms = statistics.median(times[name]["app"])
            floor_ms = statistics.median(times[name]["floor"])
            cells += [f"{floor_ms:.1f}", f"{app_ms:.1f}", f"{app_ms / floor_ms:.1f}×", f"{calls[name]:,}",
                      str(statements[name])]
        rows.append(f"| {page} | " + " | ".join(cells) + " |")
    for w in trees.values():
        w.close()
    print(f"load average at the start {'/'.join(f'{x:.2f}' for x in load0)}, at the end "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores, shared); "
          f"median of {a.repeat}, trees alternating; {a.url.split('@')[-1]}\n")
    print("| page | before: floor ms | before: page ms | before: ratio | before: calls | before: statements "
          "| after: floor ms | after: page ms | after: ratio | after: calls | after: statements |")
    print("|---|" + "---:|" * 10)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
