# plot.gp -- the charts of sxp-bench, drawn from the files that
# `sxp-bench --plot DIR` writes into DIR (series.gp there lists the series,
# their titles and their line styles, one colour per engine).
# Redraw with:  gnuplot -e "dir='DIR'" bench/plot.gp

if (!exists("dir")) dir = "."
load dir."/series.gp"

set terminal pngcairo size 1200,720 font "sans,11" noenhanced
set grid lc rgb "#dddddd"
set style line 1 lc rgb "#d62728" lw 2.5 pt 7 ps 1.2   # sxp
set style line 2 lc rgb "#ff7f0e" lw 2.5 pt 5 ps 1.2   # sxp, a stream per writer
set style line 3 lc rgb "#1f77b4" lw 2 pt 9 ps 1.2     # RocksDB
set style line 4 lc rgb "#2ca02c" lw 2 pt 11 ps 1.2    # SQLite
set style line 5 lc rgb "#444444" lw 1.5 dt 2 pt 0         # limit
set style line 6 lc rgb "#9467bd" lw 1.5 dt 4 pt 0         # limit, second kind
set style line 7 lc rgb "#8c564b" lw 2 pt 13 ps 1.2    # reference design
set style line 8 lc rgb "#17becf" lw 1.5 dt 3 pt 0         # limit beside a busy CPU

# 1. Throughput against concurrent writers.
set output dir."/throughput_writers.png"
set key below horizontal maxcols 3 Left reverse
set title "Durable 100-byte appends: acknowledged events/s against concurrent writers"
set xlabel "concurrent writers"
set ylabel "events per second (log scale)"
set logscale xy
set xrange [0.8:40]
set xtics ("1" 1, "2" 2, "4" 4, "8" 8, "32" 32)
set format y "%.0s%c"
plot for [i=1:tp_n] dir."/".value(sprintf("tp_file_%d", i)) using 1:2 \
     with linespoints ls value(sprintf("tp_ls_%d", i)) title value(sprintf("tp_title_%d", i))
unset logscale
unset xrange
unset format
set xtics auto

# 2 and 3. Ack-latency CDFs: the whole distribution on top, the tail below
# (y is the number of nines: 1 = p90, 2 = p99, 3 = p99.9).
nines(p) = p >= 0.99999 ? 5 : -log10(1 - p)
do for [g in "1 8"] {
    n = value("cdf".g."_n")
    set output dir."/latency_cdf_".g.".png"
    set multiplot layout 2,1 title (g eq "1" ? \
        "Ack latency, one writer, one durable 100-byte event per ack" : \
        "Ack latency, 8 concurrent writers, 100-byte events")
    set lmargin at screen 0.08
    set rmargin at screen 0.56
    set logscale x
    set autoscale x
    set format x "%.0f"
    set xlabel "ack latency (microseconds, log scale)"
    set key at screen 0.58, screen 0.90 left top vertical Left reverse
    set title "distribution"
    set ylabel "fraction of acks at or below"
    set yrange [0:1.001]
    set ytics 0.2
    plot for [i=1:n] dir."/".value(sprintf("cdf%s_file_%d", g, i)) using 1:2 with steps \
         ls value(sprintf("cdf%s_ls_%d", g, i)) title value(sprintf("cdf%s_title_%d", g, i))
    set xrange [GPVAL_X_MIN:GPVAL_X_MAX]
    set title "tail"
    set ylabel "percentile"
    set yrange [0:4.2]
    set ytics ("p0" 0, "p90" 1, "p99" 2, "p99.9" 3, "p99.99" 4)
    plot for [i=1:n] dir."/".value(sprintf("cdf%s_file_%d", g, i)) using 1:(nines($2)) \
         with steps ls value(sprintf("cdf%s_ls_%d", g, i)) notitle
    unset multiplot
    unset lmargin
    unset rmargin
    unset ytics
    set ytics auto
}
