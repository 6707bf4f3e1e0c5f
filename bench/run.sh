#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# faxgate benchmarks (make bench): builds each bench/*.c against the module libraries without the
# Makefile's help and runs it; the figures go into docs/PERFORMANCE.md by hand.
#   bench/run.sh [--only NAME] [-- ARGS for the benchmark]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
only=""
if [ "${1:-}" = "--only" ]; then only=$2; shift 2; fi
if [ "${1:-}" = "--" ]; then shift; fi
make -s build/libfaxd.a build/libcommon.a
mkdir -p build/bench
CFLAGS="-std=gnu11 -O2 -g -D_GNU_SOURCE -I. $(pkg-config --cflags glib-2.0 spandsp libtiff-4)"
LIBS="build/libfaxd.a build/libcommon.a $(pkg-config --libs glib-2.0 sqlite3 spandsp libtiff-4) -lm -lpthread"

# Fax channels per core (G.711 and T.38), CPU against the unpaced spandsp floor, memory per channel.
if [ -z "$only" ] || [ "$only" = channels ]; then
	# shellcheck disable=SC2086
	cc $CFLAGS -Wall -Wextra -Werror -o build/bench/bench_channels bench/bench_channels.c $LIBS
	echo "== bench_channels (about 5 minutes)"
	./build/bench/bench_channels "$@"
fi

# SMTP acceptance side by side with Postfix's smtpd (bench/smtp_bench.sh, about 4 minutes): needs
# root, since it installs postfix when missing and runs a private Postfix instance on loopback.
if [ -z "$only" ] || [ "$only" = smtp ]; then
	if [ "$(id -u)" != 0 ] && [ -z "$only" ]; then
		echo "== smtp_bench skipped: needs root (bench/run.sh --only smtp as root)" >&2
	else
		make -s bin/smtpgw
		echo "== smtp_bench (about 4 minutes)"
		./bench/smtp_bench.sh "$@"
	fi
fi

# Rendering side by side with the tools it replaces: render_pdf against gs, render_text against
# HylaFAX textfmt | gs (when hylafax-client is installed), fax_to_pdf against tiff2pdf
# (bench/bench_render.sh, about 1 minute). Prints the markdown of docs/PERFORMANCE.md's section.
if [ -z "$only" ] || [ "$only" = render ]; then
	echo "== bench_render (about 1 minute)"
	./bench/bench_render.sh "$@"
fi

# Render jobs per second with 1 worker and with one per core (cover + 1 PDF page each).
if [ -z "$only" ] || [ "$only" = render-jobs ]; then
	echo "== bench_render_jobs"
	./bench/bench_render_jobs.sh 40
fi

# The mailer against a real SMTP sink: received fax -> relay 250 latency, notifications per second
# side by side with Postfix's smtp-source (bench/mail_bench.py, about 1 minute).
if [ -z "$only" ] || [ "$only" = mail ]; then
	make -s all build/tests/helpers/mkfaxtiff
	echo "== mail_bench"
	/usr/bin/python3 bench/mail_bench.py
fi

# Concurrent SIP fax calls between two faxd on loopback, G.711 and T.38, N calls at once in a ramp,
# CPU per call side by side with the same faxes over the unpaced loop line (bench/sip_calls.py,
# 8-12 minutes: SIP lines run in real time).
if [ -z "$only" ] || [ "$only" = sip ]; then
	make -s all build/tests/helpers/mkfaxtiff
	echo "== sip_calls (8-12 minutes)"
	/usr/bin/python3 bench/sip_calls.py "$@"
fi

# Directory sync against a throwaway slapd with 10,000 entries: full and incremental (100 changes)
# side by side with ldapsearch's paged dump and RFC 4533 refresh (bench/ldap_bench.py, about 30 s).
if [ -z "$only" ] || [ "$only" = ldap ]; then
	make -s bin/ldapsync
	echo "== ldap_bench"
	/usr/bin/python3 bench/ldap_bench.py
fi

# Directory lookup latency as smtpgw pays it (ldapsync/directory.c), uncached and cached, beside
# python-ldap doing the same searches on one connection (bench/ldap_lookup_bench.py, about 20 s).
if [ -z "$only" ] || [ "$only" = ldap-lookup ]; then
	make -s build/libldapsync.a build/libprofiles.a build/libcommon.a
	# shellcheck disable=SC2086
	cc -std=gnu11 -O2 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror $(pkg-config --cflags glib-2.0) \
		-o build/bench/dirlookup_bench bench/dirlookup_bench.c build/libldapsync.a build/libprofiles.a \
		build/libcommon.a $(pkg-config --libs glib-2.0 sqlite3 ldap libcrypt) -lm -lpthread
	echo "== ldap_lookup_bench"
	/usr/bin/python3 bench/ldap_lookup_bench.py
fi
