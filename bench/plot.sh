#!/usr/bin/env bash
# plot.sh - recall vs queries/s plot (PNG) from a benchmark CSV of bench/results/.
#
#   bash bench/plot.sh CSV [PNG]
#
# CSV is what bench/bench.sh (hnsw_glove100_*.csv) or bench/bench_ivf.sh
# (ivf_glove100_*.csv) wrote; PNG defaults to the CSV's name with .png.
#
# hnsw: the kind=sweep rows (unfiltered ef_search sweep), one curve per
#   extension and client count, points labelled with ef_search.
# ivfflat: the unfiltered rows (iterative_scan off, selectivity 1), one curve
#   per extension and lists, points labelled with probes.
# x: recall@10, y: queries/s (log scale).  Needs gnuplot (Debian package
# gnuplot-nox; `bash scripts/deps.sh gnuplot-nox` installs it).  A CSV
# without such rows (e.g. a --no-sweep run) gives no plot and exit status 2.
set -euo pipefail

die() { echo "plot: error: $*" >&2; exit 1; }
[[ $# -ge 1 && $# -le 2 && $1 != -h && $1 != --help ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 1; }
CSV=$1
PNG=${2:-${CSV%.csv}.png}
[[ -r "$CSV" ]] || die "cannot read $CSV"
command -v gnuplot >/dev/null 2>&1 || die "gnuplot not found (bash scripts/deps.sh gnuplot-nox)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vecrec-plot.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

header=$(head -n 1 "$CSV")
# Series files: $TMP/NN.dat with "recall qps label" lines sorted by recall,
# and $TMP/NN.title.  The awk programs name columns by header, not position.
case "$header" in
kind,*)
	kind=hnsw
	awk -F, -v dir="$TMP" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["kind"] == "meta" {
			split($col["extension"], m, " ")
			meta = sprintf("%s rows, %s queries, vecrec %s %s, %s", $col["base_rows"], $col["queries"],
				m[2], m[4], substr($col["plan"], match($col["plan"], /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/), 10))
			print meta > (dir "/meta"); next }
		$col["kind"] == "sweep" && $col["iterative_scan"] == "off" && $col["selectivity"] == "" {
			key = $col["extension"] " " $col["clients"]
			if (!(key in id)) { id[key] = sprintf("%02d", n++); titles[id[key]] = sprintf("%s, %s client%s", $col["extension"], $col["clients"], $col["clients"] == 1 ? "" : "s") }
			print $col["recall_at_10"], $col["qps"], $col["ef"] > (dir "/" id[key] ".raw")
			m16 = $col["m"]; efc = $col["efc"] }
		END { for (k in titles) print titles[k] > (dir "/" k ".title")
		      if (m16 != "") print "hnsw, m = " m16 ", ef_construction = " efc ", labels: hnsw.ef_search" > (dir "/what") }
	' "$CSV"
	;;
extension,lists,*)
	kind=ivf
	awk -F, -v dir="$TMP" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["iterative_scan"] == "off" && $col["selectivity"] == 1 {
			key = $col["extension"] " " $col["lists"]
			if (!(key in id)) { id[key] = sprintf("%02d", n++); titles[id[key]] = sprintf("%s, lists = %s", $col["extension"], $col["lists"]) }
			print $col["recall_at_10"], $col["qps"], $col["probes"] > (dir "/" id[key] ".raw")
			meta = sprintf("%s rows, %s queries, commit %s", $col["base_rows"], $col["queries"], $col["commit"]) }
		END { for (k in titles) print titles[k] > (dir "/" k ".title")
		      if (meta != "") { print meta > (dir "/meta"); print "ivfflat, 1 client, labels: ivfflat.probes" > (dir "/what") } }
	' "$CSV"
	;;
*) die "$CSV: not a CSV of bench.sh or bench_ivf.sh" ;;
esac

shopt -s nullglob
raws=("$TMP"/*.raw)
if ((${#raws[@]} == 0)); then
	echo "plot: $CSV has no unfiltered sweep rows: no plot" >&2
	exit 2
fi

# One colour per extension (vecrec blue, pgvector orange); the first client
# count (or lists value) of each solid, the next ones dashed.
plots=()
declare -A seen=()
for raw in "${raws[@]}"; do
	dat=${raw%.raw}.dat
	sort -g -k1,1 "$raw" >"$dat"
	title=$(cat "${raw%.raw}.title")
	ext=${title%%,*}
	c="#1b6ac9"
	[[ $ext == vecrec ]] || c="#e8590c"
	seen[$ext]=$((${seen[$ext]:-0} + 1))
	plots+=("'$dat' using 1:2 with linespoints dt ${seen[$ext]} lw 2 pt 7 ps 0.8 lc rgb '$c' title '$title'")
	plots+=("'$dat' using 1:2:3 with labels offset char 0.6,0.6 font ',8' tc rgb '$c' notitle")
done
meta=$(cat "$TMP/meta" 2>/dev/null || true)
what=$(cat "$TMP/what" 2>/dev/null || true)

{
	echo "set terminal pngcairo size 960,600 font 'DejaVu Sans,10' noenhanced"
	echo "set output '$PNG'"
	# shellcheck disable=SC2028 # the backslash-n are for gnuplot
	echo "set title \"GloVe-100 (cosine): recall@10 vs queries/s\\n$what\\n$meta\" noenhanced"
	echo "set xlabel 'recall@10'"
	echo "set ylabel 'queries/s (log scale)'"
	echo "set logscale y"
	echo "set grid xtics ytics mytics lc rgb '#dddddd'"
	echo "set key top right box opaque"
	echo "set xrange [*:1.0]"
	echo "set format y '%.0f'"
	printf 'plot %s\n' "$(IFS=,; echo "${plots[*]}")"
} >"$TMP/plot.gp"
gnuplot "$TMP/plot.gp" || { cat "$TMP/plot.gp" >&2; die "gnuplot failed on the script above"; }
echo "plot: $kind recall vs queries/s written to $PNG"
