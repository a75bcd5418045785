#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Stands in for the test suite when configure did not find Check, so that
# `make check` fails loudly instead of passing with nothing run. Exit 99 is
# a hard error for automake's test harness.
echo "Check not found; install it (apt-get install check) and re-run configure"
exit 99
