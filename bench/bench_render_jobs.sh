#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Render jobs per second with all workers busy: N copies of a client-shaped message (cover page +
# one PDF page) queued through smtpgw's pipe mode, then timed from the render daemon's start until
# every job is queued, with 1 worker and with one per core. Prints jobs/s and the scaling.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-40}
msg="$top/tests/data/mail/thunderbird.eml"
run() {
	workers=$1
	home=$(mktemp -d /tmp/faxgate-bench-render-XXXXXX)
	printf '[faxgate]\nhome = %s\n[smtp]\ndomains = fax.example.com\n[render]\nworkers = %s\n' "$home" "$workers" > "$home/faxgate.conf"
	export FAXGATE_CONFIG="$home/faxgate.conf"
	i=0
	while [ $i -lt "$n" ]; do
		"$top/bin/smtpgw" deliver -f bench@example.com +12125550100@fax.example.com < "$msg" > /dev/null 2>&1
		i=$((i + 1))
	done
	start=$(date +%s.%N)
	"$top/bin/render" 2> "$home/render.log" &
	pid=$!
	while [ "$(sqlite3 "$home/faxgate.db" "select count(*) from jobs where state = 'queued'")" -lt "$n" ]; do
		sleep 0.1
		if [ "$(sqlite3 "$home/faxgate.db" "select count(*) from jobs where state = 'failed'")" -gt 0 ]; then
			echo "a job failed:" >&2; tail -3 "$home/render.log" >&2; break
		fi
	done
	end=$(date +%s.%N)
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$home"
	echo "$start $end" | awk -v n="$n" -v w="$workers" '{ t = $2 - $1; printf "workers=%s jobs=%d seconds=%.2f jobs_per_second=%.2f\n", w, n, t, n / t }'
}
one=$(run 1)
all=$(run "$(nproc)")
echo "$one"
echo "$all"
echo "$one $all" | awk '{ split($4, a, "="); split($8, b, "="); printf "scaling=%.2f (ideal %d)\n", b[2] / a[2], '"$(nproc)"' }'
