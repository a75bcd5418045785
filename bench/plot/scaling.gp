# SPDX-License-Identifier: MIT
#
# Scaling with the worker count, two figures:
#   throughput.png  bench/throughput --scaling --csv: millions of empty
#                   tasks per second for each submission mode (median, with
#                   the min..max range of the repeats as error bars);
#   efficiency.png  bench/fine_grained --scaling --csv: parallel efficiency
#                   of ~2 us tasks, beside what plain threads reach on the
#                   same machine (host_speedup / workers) and the ideal 1.
# Variables (gnuplot -e): throughput, fine_grained (the CSV files), outdir.
# `make bench-plot` runs it. Needs gnuplot 5.4 (`with table if`).

if (!exists("throughput")) throughput = "throughput.csv"
if (!exists("fine_grained")) fine_grained = "fine_grained.csv"
if (!exists("outdir")) outdir = "."

# The CSV columns: bench,workload,metric,workers,n,median,min,max,unit.
# Each series goes to a datablock of "workers median min max" rows.
set datafile separator ","
set table $W2
plot throughput using 4:6:7:8 with table \
  if (strcol(2) eq "W2" && strcol(3) eq "Mtasks_per_s")
set table $FANOUT
plot throughput using 4:6:7:8 with table \
  if (strcol(2) eq "W2_fanout" && strcol(3) eq "Mtasks_per_s")
set table $SUBMITTERS
plot throughput using 4:6:7:8 with table \
  if (strcol(2) eq "W2_submitters2" && strcol(3) eq "Mtasks_per_s")
set table $EFF
plot fine_grained using 4:6:7:8 with table \
  if (strcol(2) eq "W5" && strcol(3) eq "efficiency")
set table $HOST
plot fine_grained using 4:($6 / $4) with table \
  if (strcol(2) eq "W5" && strcol(3) eq "host_speedup")
unset table
set datafile separator whitespace

set terminal pngcairo size 900,420 font "sans,11" noenhanced
set grid
set key outside right top vertical Left reverse
set xlabel "workers"
set xtics 1
set offsets 0.5, 0.5, 0, 0

set output outdir . "/throughput.png"
set title "Throughput of empty tasks (submit + futures_join_all + release)"
set ylabel "million tasks per second"
set yrange [0:*]
plot $W2 using 1:2:3:4 with yerrorlines lw 2 pt 7 \
       title "one outside thread submits", \
     $FANOUT using 1:2:3:4 with yerrorlines lw 2 pt 5 \
       title "one task submits (fan-out)", \
     $SUBMITTERS using 1:2:3:4 with yerrorlines lw 2 pt 9 \
       title "two outside threads submit"

set output outdir . "/efficiency.png"
set title "Parallel efficiency of ~2 us tasks (bench/fine_grained)"
set ylabel "efficiency (1 = every worker busy)"
set yrange [0:1.3]
plot $EFF using 1:2:3:4 with yerrorlines lw 2 pt 7 title "libfutures", \
     $HOST using 1:2 with linespoints lw 2 dt 2 pt 5 \
       title "plain threads (host_speedup / workers)", \
     1 with lines lc "black" dt 3 title "ideal"
