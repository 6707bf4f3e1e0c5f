#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SMTP acceptance benchmark (bench/run.sh --only smtp): smtpgw side by side with Postfix's smtpd on
# the same machine, both fed by Postfix's smtp-source, both answering 250 only after the message is
# on disk (faxgate: one SQLite WAL commit with synchronous=FULL; Postfix: cleanup's fsync of the
# queue file). Figures go into docs/PERFORMANCE.md ("SMTP acceptance") by hand.
#
#   bench/smtp_bench.sh [--messages N] [--sessions N] [--rounds N] [--probe-messages N] [--nice N] [--keep]
#
#   --messages N        messages per smtp-source run (default 6000)
#   --sessions N        parallel SMTP sessions, smtp-source -s and probe clients (default 50)
#   --rounds N          rounds; each runs both servers, the order alternating (default 3)
#   --probe-messages N  messages per probe client per run (default 40: 2000 with 50 clients)
#   --nice N            start both servers under `nice -n N` (e.g. -10: both get ahead of other
#                       jobs on a shared machine; the load generators stay at 0). Default: none
#   --keep              keep the temporary directory (logs, store, queue) for a look afterwards
#
# Each round, for each server in turn (faxgate first in odd rounds, Postfix first in even ones):
#   1. a fresh store / a fresh queue, server started;
#   2. smtp-source -s SESSIONS -m MESSAGES -F msg (a new connection per message, as smtp-source
#      does by default): wall time -> messages/second, and the server's CPU time per message;
#   3. the store (jobs in state rendering) or the queue (files in hold/) must hold exactly
#      MESSAGES: a server that loses mail does not get a figure;
#   4. server restarted fresh, the latency probe (bench/smtp_latency.c): SESSIONS clients, one
#      session each, PROBE messages each, time from MAIL FROM to the 250 after the final dot;
#      counted the same way.
# The medians over the rounds and the ratios faxgate/Postfix are printed at the end.
#
# Needs root: it installs postfix (preseeded "No configuration": the system instance is neither
# configured nor started, and its boot start is disabled when this script installed it), python3
# and sqlite3 when missing, and runs a PRIVATE Postfix instance (own config_directory,
# queue_directory and data_directory under a temp dir, listening on a free 127.0.0.1 port only).
# That instance holds every message (smtpd_data_restrictions = check_client_access static:HOLD):
# cleanup writes and fsyncs the queue file into hold/ before smtpd answers 250, and the queue
# manager never delivers it. So both sides do the same work: receive, write durably, acknowledge.
# Nothing but 127.0.0.1 is ever contacted. Every process it starts is stopped at the end.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
messages=6000 sessions=50 rounds=3 probe_messages=40 keep=no nice=""
while [ $# -gt 0 ]; do
	case $1 in
	--messages) messages=$2; shift 2 ;;
	--sessions) sessions=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--probe-messages) probe_messages=$2; shift 2 ;;
	--nice) nice=$2; shift 2 ;;
	--keep) keep=yes; shift ;;
	*) echo "usage: $0 [--messages N] [--sessions N] [--rounds N] [--probe-messages N] [--nice N] [--keep]" >&2; exit 64 ;;
	esac
done
for n in "$messages" "$sessions" "$rounds" "$probe_messages"; do
	case $n in '' | *[!0-9]*) echo "smtp_bench.sh: counts must be numbers" >&2; exit 64 ;; esac
done
case $nice in '' | -[0-9] | -1[0-9] | [0-9] | 1[0-9]) ;; *) echo "smtp_bench.sh: --nice takes -19..19" >&2; exit 64 ;; esac
# How the servers are started: as they are, or under nice(1) with --nice.
run_server() { if [ -n "$nice" ]; then nice -n "$nice" "$@"; else "$@"; fi; }
if [ "$(id -u)" != 0 ]; then
	echo "smtp_bench.sh: run as root (it installs postfix and runs a private Postfix instance)" >&2
	exit 1
fi

sender=bench@example.com
rcpt=+12125550100@fax.example.com

# ---- what it needs ----
missing=""
command -v smtp-source >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1 || missing="$missing postfix"
[ -x /usr/bin/python3 ] || missing="$missing python3"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v cc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
postfix_was_installed=$(dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -c 'install ok installed' || true)
if [ -n "$missing" ]; then
	echo "== installing:$missing"
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt_install() {
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@"
	}
	# shellcheck disable=SC2086
	apt_install $missing || { apt-get -o DPkg::Lock::Timeout=600 update -q && apt_install $missing; }
	if [ "$postfix_was_installed" = 0 ]; then
		# It was not there before: keep the system instance from starting at boot.
		update-rc.d postfix disable >/dev/null 2>&1 || true
		if command -v deb-systemd-helper >/dev/null 2>&1; then
			deb-systemd-helper disable postfix.service >/dev/null 2>&1 || true
		fi
	fi
fi
# Whether the system's own Postfix runs: it must be the same at the end.
system_postfix_before=$( [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1 && echo running || echo stopped)

# ---- temp dir, ports, programs ----
T=$(mktemp -d /tmp/faxgate-smtpbench.XXXXXX)
chmod 755 "$T" # Postfix's daemons drop privileges and still need to reach the queue
fg_pid="" pf_master=""
PF="$T/postfix"

cleanup() {
	set +e
	fg_stop
	pf_stop
	if [ "$keep" = yes ]; then
		echo "kept: $T"
	else
		rm -rf "$T"
	fi
	local after
	after=$( [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1 && echo running || echo stopped)
	[ "$after" = "$system_postfix_before" ] || echo "WARNING: the system Postfix was $system_postfix_before, is now $after" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
fg_port=$(free_port)
pf_port=$(free_port)
while [ "$pf_port" = "$fg_port" ]; do pf_port=$(free_port); done

# Listening yet? (ss does not connect, so the servers see no extra session.)
wait_listen() {
	local port=$1
	for _ in $(seq 100); do
		if ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then return 0; fi
		sleep 0.1
	done
	echo "smtp_bench.sh: nothing listens on 127.0.0.1:$port" >&2
	return 1
}

# A private copy, so that a rebuild in the tree during the run does not swap the binary. Others
# build in the same tree: a copy taken while the linker writes is caught (a complete smtpgw
# answers a bad argument with its usage, exit 64) and taken again, for up to two minutes.
for try in $(seq 24); do
	[ -x "$top/bin/smtpgw" ] || make -C "$top" -s bin/smtpgw || true
	rc=0
	cp "$top/bin/smtpgw" "$T/smtpgw" 2>/dev/null && chmod 755 "$T/smtpgw" && "$T/smtpgw" --bench-check >/dev/null 2>&1 || rc=$?
	[ "$rc" = 64 ] && break
	[ "$try" = 24 ] && { echo "smtp_bench.sh: no working $top/bin/smtpgw" >&2; exit 1; }
	sleep 5
done
cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o "$T/smtp_latency" "$top/bench/smtp_latency.c"
/usr/bin/python3 "$top/bench/smtp_message.py" "$T/msg.crlf" "$T/msg.lf"
msg_size=$(stat -c %s "$T/msg.crlf")
hz=$(getconf CLK_TCK)

# CPU ticks of a process and of its children, reaped (cutime, cstime) and still alive.
tree_ticks() {
	local pid=$1 total=0 f c
	[ -r "/proc/$pid/stat" ] || { echo 0; return; }
	# fields after "(comm) ": 12 utime 13 stime 14 cutime 15 cstime
	read -r -a f <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
	total=$((f[11] + f[12] + f[13] + f[14]))
	for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		if [ -r "/proc/$c/stat" ]; then
			read -r -a f <<<"$(sed 's/^.*) //' "/proc/$c/stat")"
			total=$((total + f[11] + f[12]))
		fi
	done
	echo "$total"
}

# Where a single-process server's time went, per message: on a CPU, waiting for one (runqueue),
# and the rest (blocked: fdatasync, or idle waiting for clients). Nothing for a process tree.
sched_snapshot() { # pid -> "oncpu_ns runqueue_ns wall_ns"
	local a b
	read -r a b _ <"/proc/$1/schedstat" 2>/dev/null || { echo "0 0 $(date +%s%N)"; return; }
	echo "$a $b $(date +%s%N)"
}
sched_report() { # "before" "after" messages
	awk -v b="$1" -v a="$2" -v n="$3" 'BEGIN { split(b, x, " "); split(a, y, " ");
		c = (y[1] - x[1]) / n / 1e6; w = (y[2] - x[2]) / n / 1e6; t = (y[3] - x[3]) / n / 1e6;
		printf "on-cpu %.3f, runqueue %.3f, blocked/idle %.3f ms/msg", c, w, t - c - w }'
}

# ---- faxgate ----
fg_start() {
	rm -rf "$T/fg"
	mkdir -p "$T/fg"
	cat >"$T/fg/faxgate.conf" <<EOF
[faxgate]
home = $T/fg
[smtp]
listen = 127.0.0.1:$fg_port
domains = fax.example.com
rate_limit = 0
max_connections = 1000
EOF
	# nice(1) execs the program, so $! is smtpgw itself either way
	if [ -n "$nice" ]; then
		FAXGATE_CONFIG="$T/fg/faxgate.conf" nice -n "$nice" "$T/smtpgw" 2>>"$T/fg/smtpgw.log" </dev/null &
	else
		FAXGATE_CONFIG="$T/fg/faxgate.conf" "$T/smtpgw" 2>>"$T/fg/smtpgw.log" </dev/null &
	fi
	fg_pid=$!
	wait_listen "$fg_port"
}

fg_stop() {
	[ -n "$fg_pid" ] || return 0
	kill -TERM "$fg_pid" 2>/dev/null
	wait "$fg_pid" 2>/dev/null
	fg_pid=""
}

# The jobs the store holds; "N" when they are N jobs in state rendering with one message each.
fg_count() {
	sqlite3 "$T/fg/faxgate.db" "SELECT (SELECT count(*) FROM jobs WHERE state = 'rendering'),
		(SELECT count(*) FROM jobs), (SELECT count(*) FROM documents WHERE kind = 'message')" |
		awk -F'|' '{ print ($1 == $2 && $2 == $3) ? $1 : "mismatch:" $0 }'
}

# ---- Postfix (private instance) ----
pf_configure() {
	mkdir -p "$PF/etc" "$PF/data"
	chown postfix "$PF/data"
	cat >"$PF/etc/main.cf" <<EOF
# Private Postfix for bench/smtp_bench.sh: accepts mail for fax.example.com from loopback and
# holds it in its queue; nothing is ever delivered.
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-faxgate-bench
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = pfbench.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = fax.example.com
# the same policy as smtpgw: loopback may send, only to the fax domain, never a relay
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
# hold every message: written to hold/ (fsync) before the 250, never delivered
smtpd_data_restrictions = check_client_access static:HOLD
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
EOF
	# Only what the accept path and postqueue need; no chroot (the queue is a temp dir).
	cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$pf_port inet n - n - 100 smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

pf_start() {
	rm -rf "$PF/queue"
	mkdir -p "$PF/queue"
	# "check" creates the queue's subdirectories with Postfix's owners and modes
	if ! postfix -c "$PF/etc" check >/dev/null 2>&1 || ! run_server postfix -c "$PF/etc" start >/dev/null 2>&1; then
		echo "smtp_bench.sh: the private Postfix did not start; its log:" >&2
		tail -20 "$PF/maillog" >&2 2>/dev/null
		return 1
	fi
	pf_master=$(tr -d ' ' <"$PF/queue/pid/master.pid")
	wait_listen "$pf_port"
}

pf_stop() {
	[ -n "$pf_master" ] || return 0
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	for _ in $(seq 100); do
		kill -0 "$pf_master" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pf_master" 2>/dev/null; then
		kill -KILL "$pf_master" 2>/dev/null
	fi
	pf_master=""
}

# Messages in the queue; "N" when all N are in hold/ and postqueue lists N.
pf_count() {
	local held other listed
	held=$(find "$PF/queue/hold" -type f | wc -l)
	other=$(find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/maildrop" -type f | wc -l)
	listed=$(postqueue -c "$PF/etc" -p | sed -n 's/.* in \([0-9]*\) Requests*\.$/\1/p')
	if [ "$other" = 0 ] && [ "$held" = "${listed:-0}" ]; then echo "$held"; else echo "mismatch:held=$held,other=$other,listed=$listed"; fi
}

# ---- one run ----
server_start() { if [ "$1" = faxgate ]; then fg_start; else pf_start; fi; }
server_stop() { if [ "$1" = faxgate ]; then fg_stop; else pf_stop; fi; }
server_port() { if [ "$1" = faxgate ]; then echo "$fg_port"; else echo "$pf_port"; fi; }
server_pid() { if [ "$1" = faxgate ]; then echo "$fg_pid"; else echo "$pf_master"; fi; }
server_count() { if [ "$1" = faxgate ]; then fg_count; else pf_count; fi; }

results="$T/results"
: >"$results"

run_source() {
	local name=$1 round=$2 port pid t0 t1 c0 c1 s0 s1 got rate cpu sched=""
	server_start "$name"
	port=$(server_port "$name")
	pid=$(server_pid "$name")
	c0=$(tree_ticks "$pid")
	s0=$(sched_snapshot "$pid")
	t0=$(date +%s%N)
	if ! (cd "$T" && timeout 600 smtp-source -s "$sessions" -m "$messages" -F "$T/msg.lf" -f "$sender" -t "$rcpt" \
		-M bench.localdomain "127.0.0.1:$port"); then
		echo "smtp_bench.sh: smtp-source against $name failed" >&2
		return 1
	fi
	t1=$(date +%s%N)
	s1=$(sched_snapshot "$pid")
	c1=$(tree_ticks "$pid")
	[ "$name" = faxgate ] && sched=" ($(sched_report "$s0" "$s1" "$messages"))"
	got=$(server_count "$name")
	server_stop "$name"
	if [ "$got" != "$messages" ]; then
		echo "smtp_bench.sh: $name: sent $messages, stored $got: no figure" >&2
		return 1
	fi
	rate=$(awk -v n="$messages" -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (ns / 1e9) }')
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$messages" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')
	printf '%-8s round %d smtp-source: %d msgs in %.2f s = %s msg/s, server CPU %s ms/msg%s, stored %s, load %s\n' \
		"$name" "$round" "$messages" "$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')" "$rate" "$cpu" "$sched" \
		"$got" "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$name source_rate $rate" >>"$results"
	echo "$name source_cpu $cpu" >>"$results"
}

run_probe() {
	local name=$1 round=$2 port out got expect=$((sessions * probe_messages)) k v pid s0 s1 sched=""
	server_start "$name"
	port=$(server_port "$name")
	pid=$(server_pid "$name")
	s0=$(sched_snapshot "$pid")
	if ! out=$("$T/smtp_latency" 127.0.0.1 "$port" "$sessions" "$probe_messages" "$T/msg.crlf" "$sender" "$rcpt"); then
		echo "smtp_bench.sh: latency probe against $name failed: $out" >&2
		return 1
	fi
	s1=$(sched_snapshot "$pid")
	[ "$name" = faxgate ] && sched=" ($(sched_report "$s0" "$s1" "$expect"))"
	got=$(server_count "$name")
	server_stop "$name"
	if [ "$got" != "$expect" ]; then
		echo "smtp_bench.sh: $name: probe sent $expect, stored $got: no figure" >&2
		return 1
	fi
	printf '%-8s round %d probe: %s stored=%s%s, load %s\n' "$name" "$round" "$out" "$got" "$sched" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	for kv in $out; do
		k=${kv%%=*} v=${kv#*=}
		case $k in rate | p50_ms | p90_ms | p99_ms | max_ms) echo "$name probe_$k $v" >>"$results" ;; esac
	done
}

median() { # name key
	awk -v n="$1" -v k="$2" '$1 == n && $2 == k { print $3 }' "$results" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- the benchmark ----
pf_configure
echo "== SMTP acceptance: $msg_size-byte message (text + base64 PDF), $sessions sessions," \
	"smtp-source $messages messages, probe $sessions x $probe_messages, $rounds rounds"
echo "   faxgate 127.0.0.1:$fg_port ($top/bin/smtpgw), Postfix $(postconf -d -h mail_version) 127.0.0.1:$pf_port, temp $T"
echo "   $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)${nice:+, servers under nice -n $nice}"
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then order="faxgate postfix"; else order="postfix faxgate"; fi
	for s in $order; do run_source "$s" "$r"; done
	for s in $order; do run_probe "$s" "$r"; done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "== medians of $rounds rounds (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-28s %12s %12s %16s\n' "" faxgate postfix faxgate/postfix
for key in source_rate source_cpu probe_rate probe_p50_ms probe_p90_ms probe_p99_ms probe_max_ms; do
	fv=$(median faxgate "$key") pv=$(median postfix "$key")
	case $key in
	source_rate) label="smtp-source msg/s" ;;
	source_cpu) label="server CPU ms/msg" ;;
	probe_rate) label="probe msg/s" ;;
	*) label="probe ${key#probe_}" label=${label%_ms}" ms" ;;
	esac
	printf '%-28s %12s %12s %16s\n' "$label" "$fv" "$pv" "$(ratio "$fv" "$pv")"
done
