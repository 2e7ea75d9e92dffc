#!/usr/bin/env bash
# The scale table of README.md: contacts/s and peak memory of one replication on one thread,
# (1) against agent count, the reference load scaled ×1..×1000 (16 → 16,000 agents, 2 days), and
# (2) against horizon, the ×10 load (160 agents) over 1 day .. 1 year.
#   bash benches/scale.sh [policy-preset]      (default hybrid-10m; best of 3 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
policy=${1:-hybrid-10m}
cargo build --release --quiet
bin=target/release/convosim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scenario() { # scale horizon -> file
  local file="$tmp/x$1_$2.toml"
  sed -e "s/^rate_per_hour = .*/rate_per_hour = $((120 * $1))/" -e "s/^count = .*/count = $((16 * $1))/" \
      -e "s/^horizon = .*/horizon = \"$2\"/" -e 's/^warmup = .*/warmup = "0"/' scenarios/reference.toml > "$file"
  echo "$file"
}

measure() { # file -> "contacts contacts/s rss_mib"
  local best=0 contacts=0 rss=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%M" -o "$tmp/rss" "$bin" run "$1" --replications 1 --threads 1 --policy "$policy" --format json > "$tmp/out.json"
    read -r contacts rate < <(python3 -c "import json; e=json.load(open('$tmp/out.json'))['engine']; print(e['contacts'], int(e['contacts_per_s']))")
    [ "$rate" -gt "$best" ] && best=$rate
    rss=$(cat "$tmp/rss")
  done
  echo "$contacts $best $((rss / 1024))"
}

echo "policy: $policy; best of 3 runs; $(date -u +%Y-%m-%d)"
echo
echo "| load | agents | horizon | contacts | contacts/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for scale in 1 10 100 1000; do
  read -r c r m < <(measure "$(scenario $scale 2d)")
  echo "| ×$scale | $((16 * scale)) | 2d | $c | $r | $m |"
done
for horizon in 1d 8d 30d 365d; do
  read -r c r m < <(measure "$(scenario 10 $horizon)")
  echo "| ×10 | 160 | $horizon | $c | $r | $m |"
done
