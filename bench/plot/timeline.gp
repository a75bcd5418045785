# SPDX-License-Identifier: MIT
#
# The seed demo as a timeline: one row per thread that ran a task, time
# across, for the sequential run (await a; await b: the bars end to end)
# and the parallel one (Promise.all: side by side). The same picture as
# `bench/seq_vs_par --timeline` prints in text.
# Input: `bench/seq_vs_par --timeline-data FILE`, rows
#   run lane "label" task start_ms end_ms   (run 0 sequential, 1 parallel)
# Variables (gnuplot -e): in, out, tasks (the durations, for the title).
# `make bench-plot` runs it.

if (!exists("in")) in = "seq_vs_par_timeline.dat"
if (!exists("out")) out = "seq_vs_par_timeline.png"
if (!exists("tasks")) tasks = "1000 ms and 500 ms"

stats in using 6 nooutput name "T"
stats in using 2 nooutput name "L"
nl = int(L_max) + 1
# Row of a bar: the parallel run on top, a gap between the two runs.
row(run, lane) = run == 1 ? nl + 1 + (nl - 1 - lane) : (nl - 1 - lane)

set terminal pngcairo size 760,300 font "sans,11" noenhanced
set output out
set title sprintf("The seed demo as a timeline: two tasks of %s", tasks)
set xlabel "time since the run began (ms)"
set xrange [0:T_max * 1.04]
set yrange [-0.7:2 * nl + 1.0]
set ytics scale 0
set grid xtics
unset key
set style fill solid 0.85 border -1
set label 1 "parallel: futures_join_all (await Promise.all)" \
  at graph 0.01, first (2 * nl + 0.55) left
set label 2 "sequential: future_get, future_get (await a; await b)" \
  at graph 0.01, first (nl - 0.45) left
plot in using (($5 + $6) / 2):(row($1, $2)):(($6 - $5) / 2):(0.32): \
       ($4):ytic(3) with boxxyerror lc variable, \
     in using (($5 + $6) / 2):(row($1, $2)):(sprintf("task %d, %.0f ms", \
       $4, $6 - $5)) with labels
