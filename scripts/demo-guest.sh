#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the demo VM (see scripts/demo).
set -e
say() { printf '\n== %s\n' "$*"; }

say "kernel $(uname -r)"
say "load the ipump modules"
modprobe ipump
modinfo ipump | grep -E '^(description|version|license|author)'
say "unload"
rmmod ipump
echo "demo finished"
