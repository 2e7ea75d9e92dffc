#!/usr/bin/env bash
# convosim vs the SimPy baseline (the baselines folder's simpy_model.py), side by side:
#   1. SPEED: ref.toml and ref_x10.toml x {next_available, sticky, hybrid 10m}, one replication
#      on one thread, contacts ready per second (best of 5 convosim runs, best of 3 SimPy runs;
#      1 SimPy run for ref_x10 with --quick);
#   2. METRICS on ref.toml: 10 replications per policy in each tool, mean ± 95% CI, and whether
#      the CIs overlap. The last line is "all metrics agree" or lists the disagreements.
# It is a report: exit status 0 whatever the comparison says, non-zero only if a tool fails.
#
# usage: benches/compare_simpy.sh BASELINE_DIR [--quick]
#   BASELINE_DIR: a folder holding the SimPy baseline (simpy_model.py, scenarios/ref.toml,
#   scenarios/ref_x10.toml). It is not part of this repository, and nothing else here needs it.
# About 3-4 minutes on 2 cores (about 2 with --quick).
set -euo pipefail

usage() {
    echo "usage: $0 BASELINE_DIR [--quick]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
baseline_dir=$1
shift
quick=()
for arg in "$@"; do
    case $arg in
        --quick) quick=(--quick) ;;
        *) usage ;;
    esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
[[ -d $baseline_dir ]] || { echo "error: $baseline_dir: not a directory" >&2; exit 2; }
baseline_dir=$(cd "$baseline_dir" && pwd)
for f in simpy_model.py scenarios/ref.toml scenarios/ref_x10.toml; do
    [[ -f $baseline_dir/$f ]] || { echo "error: $baseline_dir/$f: missing" >&2; exit 2; }
done

command -v python3 >/dev/null || { echo "error: python3 not found" >&2; exit 1; }
python3 -c 'import tomllib' 2>/dev/null || { echo "error: the SimPy model needs Python 3.11+ (tomllib)" >&2; exit 1; }
if ! python3 -c 'import simpy' 2>/dev/null; then
    echo "installing SimPy ..." >&2
    python3 -m pip install --quiet simpy
    python3 -c 'import simpy'
fi

# Build if needed (cargo does nothing when the binary is up to date), then run a private copy so
# that a rebuild by someone else during the comparison cannot swap the binary under it.
bin=$root/target/release/convosim
if ! (cd "$root" && cargo build --release --quiet --bin convosim); then
    if [[ -x $bin ]]; then
        echo "warning: cargo build --release failed; using the existing $bin" >&2
    else
        echo "error: cargo build --release failed and there is no $bin" >&2
        exit 1
    fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$bin" "$tmp/convosim"

python3 "$here/compare_simpy.py" "$baseline_dir" --convosim "$tmp/convosim" --root "$root" ${quick[@]+"${quick[@]}"}
