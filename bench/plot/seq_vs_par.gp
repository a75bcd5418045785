# SPDX-License-Identifier: MIT
#
# The seed demo as two bars: the same two tasks awaited one after another
# (await a; await b) and all at once (Promise.all / futures_join_all).
# Input: the CSV of `bench/seq_vs_par --csv` (rows seq_ms and par_ms).
# Variables (gnuplot -e): in, out, tasks (the durations, for the title).
# `make bench-plot` runs it.

if (!exists("in")) in = "seq_vs_par.csv"
if (!exists("out")) out = "seq_vs_par.png"
if (!exists("tasks")) tasks = "1000 ms and 500 ms"

set datafile separator ","
stats in using (strcol(3) eq "seq_ms" ? $6 : 1/0) nooutput name "SEQ"
stats in using (strcol(3) eq "par_ms" ? $6 : 1/0) nooutput name "PAR"
stats in using (strcol(3) eq "seq_ms" ? $4 : 1/0) nooutput name "W"

set print $bars
print sprintf("0 %g", SEQ_max)
print sprintf("1 %g", PAR_max)
unset print
set datafile separator whitespace

set terminal pngcairo size 760,420 font "sans,11" noenhanced
set output out
set title sprintf("The seed demo: two tasks that sleep %s, %d workers", \
  tasks, int(W_max))
set ylabel "wall time (ms)"
set yrange [0:SEQ_max * 1.18]
set xrange [-0.6:1.6]
set xtics ("sequential\nfuture_get, future_get\n(await a; await b)" 0, \
  "parallel\nfutures_join_all\n(await Promise.all)" 1) scale 0
set bmargin 5
set grid ytics
set style fill solid 0.85 border -1
set boxwidth 0.55
unset key
plot $bars using 1:2:($1 + 1) with boxes lc variable, \
  $bars using 1:2:(sprintf("%.1f ms", $2)) with labels offset 0,1
