#!/usr/bin/env python3
"""convosim vs the SimPy baseline: speed side by side, and metric agreement on ref.toml.

Called by benches/compare_simpy.sh (which installs SimPy and builds convosim first):

    python3 benches/compare_simpy.py BASELINE_DIR --convosim PATH/TO/convosim [--quick]

SPEED: ref.toml and ref_x10.toml x {next_available, sticky, hybrid 10m}; one replication on one
thread, the scenario's own seed and horizon in both tools. contacts/s = contacts that became ready
over the whole run (warm-up included) / wall time of the simulation itself; that is the baseline
README's "contacts ready per second" (its run_baselines.py: events_by_kind.ready / wall_s) and
convosim's engine.contacts / engine.wall_s. Interpreter or process start and scenario parsing are
left out in both. Best (lowest wall) of 5 runs for convosim, of 3 for SimPy (1 for ref_x10 with
--quick).

METRICS: ref.toml x the 3 policies, 10 replications each: SimPy seeds 1..10 (one process per
seed), convosim --replications 10. For each metric: the mean over replications and the 95%
Student-t half-width in both tools; "agree" = the two intervals overlap, i.e.
|mean_a - mean_b| <= h_a + h_b. The last line says "all metrics agree" or lists the
disagreements. Exit status 0 either way; non-zero only if a tool fails.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# (label, convosim --policy preset, SimPy flags)
POLICIES = [
    ("next_available", "next-available", ["--policy", "next_available"]),
    ("sticky", "sticky", ["--policy", "sticky"]),
    ("hybrid 10m", "hybrid-10m", ["--policy", "hybrid", "--timeout", "10m"]),
]

# (convosim metric, SimPy JSON key); SimPy paths use "." for nesting.
METRICS = [
    ("wait_first_mean_s", "wait_mean_first_s"),
    ("waited_first_share", "p_wait_gt0_first"),
    ("wait_resumed_mean_s", "wait_mean_resumed_s"),
    ("waited_resumed_share", "p_wait_gt0_resumed"),
    ("wait_resumed_p90_s", "wait_resumed_s.p90"),
    ("abandon_first_share", "abandon_share_first"),
    ("abandon_resumed_share", "abandon_share_resumed"),
    ("affinity_retention_share", "affinity_retention"),
    ("occupancy_share", "occupancy"),
    # extra sanity checks with identical definitions in both tools (contacts ready in the window)
    ("contacts_first", "contacts_first"),
    ("contacts_resumed", "contacts_resumed"),
]

CONVOSIM_REPEATS = 5
METRIC_REPS = 10

# Two-sided 97.5% Student t quantiles, df = 1..30.
T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


class ToolError(RuntimeError):
    pass


def t975(df: int) -> float:
    if df < 1:
        return float("nan")
    if df <= 30:
        return T_975[df - 1]
    z, d = 1.959963984540054, float(df)
    return z + (z ** 3 + z) / (4 * d) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * d * d)


def mean_ci(values):
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return None, None, 0
    m = sum(xs) / n
    if n < 2:
        return m, None, n
    var = sum((x - m) ** 2 for x in xs) / (n - 1)
    return m, t975(n - 1) * math.sqrt(var / n), n


def run_json(cmd, cwd=None) -> dict:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise ToolError(f"command failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise ToolError(f"not JSON from: {' '.join(cmd)}: {e}\n{p.stdout[:500]}") from None


def dig(doc: dict, path: str):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return KeyError
        doc = doc[part]
    return doc


class Tools:
    def __init__(self, baseline_dir: str, convosim: str, root: str):
        self.baseline = baseline_dir
        self.simpy_model = os.path.join(baseline_dir, "simpy_model.py")
        self.convosim = convosim
        self.root = root

    def scenario(self, name: str) -> str:
        return os.path.join(self.baseline, "scenarios", f"{name}.toml")

    def simpy(self, scenario: str, flags, seed=None) -> dict:
        cmd = [sys.executable, self.simpy_model, self.scenario(scenario), *flags, "--indent", "0"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        return run_json(cmd)

    def conv(self, scenario: str, preset: str, replications: int, threads=None) -> dict:
        cmd = [self.convosim, "run", self.scenario(scenario), "--replications", str(replications),
               "--policy", preset, "--format", "json"]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        return run_json(cmd, cwd=self.root)


def check_policy(label: str, conv: dict, simpy: dict):
    """Both tools must really have run the policy asked for."""
    cp, sp, st = str(conv.get("policy", "")), simpy.get("policy"), simpy.get("timeout_s")
    want = label.split()[0]
    ok_conv = cp.startswith(want) and (want != "hybrid" or "10m" in cp)
    ok_simpy = sp == want and (want != "hybrid" or st == 600.0)
    if not (ok_conv and ok_simpy):
        raise ToolError(f"policy mismatch for {label}: convosim ran {cp!r}, SimPy ran {sp!r} "
                        f"(timeout {st})")


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def speed(tools: Tools, quick: bool):
    print("## Speed: one replication, one thread, same scenario file, seed and horizon\n")
    print(f"contacts/s = contacts ready over the whole run (warm-up included) / simulation wall "
          f"time; best of {CONVOSIM_REPEATS} runs for convosim, best of M runs for SimPy.\n")
    print("| scenario | policy | SimPy contacts/s | convosim contacts/s | ratio | SimPy wall s (M) "
          "| convosim wall s | contacts SimPy / convosim |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for scen in ("ref", "ref_x10"):
        m = 1 if (quick and scen == "ref_x10") else 3
        for label, preset, flags in POLICIES:
            conv_runs = [tools.conv(scen, preset, 1, threads=1) for _ in range(CONVOSIM_REPEATS)]
            simpy_runs = [tools.simpy(scen, flags) for _ in range(m)]
            check_policy(label, conv_runs[0], simpy_runs[0])
            cbest = min(conv_runs, key=lambda d: d["engine"]["wall_s"])
            sbest = min(simpy_runs, key=lambda d: d["wall_s"])
            c_contacts, c_wall = cbest["engine"]["contacts"], cbest["engine"]["wall_s"]
            s_contacts, s_wall = sbest["events_by_kind"]["ready"], sbest["wall_s"]
            c_rate, s_rate = c_contacts / c_wall, s_contacts / s_wall
            rows.append((scen, label, s_rate, c_rate))
            print(f"| {scen} | {label} | {fmt_rate(s_rate)} | {fmt_rate(c_rate)} | "
                  f"{c_rate / s_rate:,.1f}x | {s_wall:.3f} ({m}) | {c_wall:.4f} | "
                  f"{s_contacts:,} / {c_contacts:,} |", flush=True)
    print()
    return rows


def fmt_ci(m, h) -> str:
    if m is None:
        return "—"
    return f"{m:.4g} ± {h:.2g}" if h is not None else f"{m:.4g}"


def metrics(tools: Tools, jobs: int):
    print(f"## Metrics: ref.toml, {METRIC_REPS} replications per policy, mean ± 95% CI "
          f"(Student t)\n")
    print(f"SimPy: seeds 1..{METRIC_REPS}, one process per seed; convosim: --replications "
          f"{METRIC_REPS} (its own seed derivation). agree = the two CIs overlap.\n")
    print("| policy | metric (convosim / SimPy key) | SimPy | convosim | diff | "
          "abs(diff) / (h1+h2) | agree |")
    print("|---|---|---|---|---|---|---|")
    disagreements, skipped = [], set()
    for label, preset, flags in POLICIES:
        conv = tools.conv("ref", preset, METRIC_REPS)
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            sims = list(ex.map(lambda s: tools.simpy("ref", flags, seed=s),
                               range(1, METRIC_REPS + 1)))
        check_policy(label, conv, sims[0])
        for cname, skey in METRICS:
            cm = conv["metrics"].get(cname)
            svals = [dig(d, skey) for d in sims]
            if cm is None or any(v is KeyError for v in svals):
                skipped.add(f"{cname}/{skey}")
                continue
            c_mean, c_h = cm.get("mean"), cm.get("ci95")
            s_mean, s_h, s_n = mean_ci(svals)
            if c_mean is None or s_mean is None:
                verdict, ratio, diff = "n/a", "—", "—"
            else:
                d = c_mean - s_mean
                hh = (c_h or 0.0) + (s_h or 0.0)
                eps = 1e-12 * max(abs(c_mean), abs(s_mean), 1.0)
                ok = abs(d) <= hh + eps
                verdict = "yes" if ok else "**NO**"
                ratio = f"{abs(d) / hh:.2f}" if hh > 0 else ("0" if abs(d) <= eps else "inf")
                diff = f"{d:+.3g}"
                if not ok:
                    disagreements.append(
                        f"{label} {cname}: SimPy {fmt_ci(s_mean, s_h)} vs convosim "
                        f"{fmt_ci(c_mean, c_h)}")
            print(f"| {label} | {cname} / {skey} | {fmt_ci(s_mean, s_h)} | {fmt_ci(c_mean, c_h)} "
                  f"| {diff} | {ratio} | {verdict} |", flush=True)
    print()
    if skipped:
        print(f"skipped (missing in one tool): {', '.join(sorted(skipped))}")
    return disagreements


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("baseline_dir")
    ap.add_argument("--convosim", required=True, help="path to the convosim binary")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="directory convosim runs in (its ./policies presets); default: the crate")
    ap.add_argument("--quick", action="store_true", help="1 SimPy run (not 3) per ref_x10 policy")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel SimPy processes for the metric replications")
    args = ap.parse_args(argv)
    tools = Tools(os.path.abspath(args.baseline_dir), os.path.abspath(args.convosim), args.root)
    for f in (tools.simpy_model, tools.scenario("ref"), tools.scenario("ref_x10")):
        if not os.path.isfile(f):
            print(f"error: missing {f}", file=sys.stderr)
            return 2
    try:
        import simpy  # noqa: F401
        simpy_version = simpy.__version__
    except ImportError:
        simpy_version = "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# convosim vs SimPy baseline ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, load avg {load:.2f} at start, Python "
          f"{sys.version.split()[0]}, SimPy {simpy_version}{', --quick' if args.quick else ''})\n")
    t0 = time.perf_counter()
    try:
        speed(tools, args.quick)
        t1 = time.perf_counter()
        disagreements = metrics(tools, max(1, args.jobs))
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    t2 = time.perf_counter()
    print(f"time: speed {t1 - t0:.0f} s, metrics {t2 - t1:.0f} s")
    if disagreements:
        print(f"{len(disagreements)} metric(s) disagree: " + "; ".join(disagreements))
    else:
        print("all metrics agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
