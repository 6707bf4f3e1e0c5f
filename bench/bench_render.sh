#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Rendering benchmark (bench/run.sh --only render): faxgate's converters (render/convert.c) side by
# side with the tool each one replaces, run directly, on the same input in the same run:
#   PDF -> fax pages     render_pdf (pdfinfo + gs tiffg4 + page checks)  vs  gs tiffg4 alone
#   text -> fax pages    render_text (pango/cairo, in-process)           vs  HylaFAX textfmt | gs
#   fax TIFF -> PDF      fax_to_pdf (CCITT data embedded as it is)      vs  tiff2pdf
# plus image -> page and the PNG preview on their own. Whole-process wall clock, one warm-up run,
# then the median of RUNS runs (default 5), ours and the direct tool alternately; per job and per page; ratio = faxgate / direct tool.
# Prints markdown for docs/PERFORMANCE.md.
#   bench/bench_render.sh [-n RUNS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=5
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi

make -s build/librender.a build/libfaxd.a build/libcommon.a
mkdir -p build/bench
pkgs="glib-2.0 gdk-pixbuf-2.0 pangocairo libtiff-4 libpng zlib spandsp"
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror $(pkg-config --cflags $pkgs) \
	-o build/bench/bench_render bench/bench_render.c \
	-Wl,--start-group build/librender.a build/libfaxd.a build/libcommon.a -Wl,--end-group \
	$(pkg-config --libs $pkgs) -lm -lpthread
drv=$top/build/bench/bench_render

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Median wall times in microseconds of RUNS runs of two shell command lines, run alternately (so
# that a busy moment of the machine hits both), after one warm-up each: sets $ours and $direct.
pair() {
	sh -c "$1" >/dev/null 2>&1 || { echo "command failed: $1" >&2; exit 1; }
	sh -c "$2" >/dev/null 2>&1 || { echo "command failed: $2" >&2; exit 1; }
	: >"$work/a" && : >"$work/b"
	i=0
	while [ $i -lt "$runs" ]; do
		for which in a b; do
			if [ $which = a ]; then cmd=$1; else cmd=$2; fi
			s=$(date +%s%N)
			sh -c "$cmd" >/dev/null 2>&1
			e=$(date +%s%N)
			echo $(((e - s) / 1000)) >>"$work/$which"
		done
		i=$((i + 1))
	done
	ours=$(sort -n "$work/a" | sed -n "$(((runs + 1) / 2))p")
	direct=$(sort -n "$work/b" | sed -n "$(((runs + 1) / 2))p")
}
med() { pair "$1" true && echo "$ours"; }

ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
per_page() { awk -v u="$1" -v p="$2" 'BEGIN { printf "%.1f", u / 1000 / p }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
kb_page() { awk -v s="$(stat -c %s "$1")" -v p="$2" 'BEGIN { printf "%.1f", s / 1024 / p }'; }

# Inputs: man pages as groff would print them (A4 and Letter), a one-page PDF, licences as text.
zcat /usr/share/man/man1/bash.1.gz | groff -Tps -man -dpaper=a4 -P-pa4 2>/dev/null | ps2pdf -sPAPERSIZE=a4 - "$work/bash.pdf"
zcat /usr/share/man/man1/curl.1.gz | groff -Tps -man -dpaper=letter -P-pletter 2>/dev/null |
	ps2pdf -sPAPERSIZE=letter - "$work/curl.pdf"
printf '%%!PS\n/Helvetica findfont 14 scalefont setfont 72 700 moveto (One page, one line.) show showpage\n' |
	ps2pdf -sPAPERSIZE=a4 - "$work/one.pdf"
cp /usr/share/common-licenses/GPL-3 "$work/gpl3.txt"
cat /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/LGPL-3 /usr/share/common-licenses/Apache-2.0 \
	/usr/share/common-licenses/MPL-2.0 /usr/share/common-licenses/Artistic >"$work/licences.txt"

gsfax() { # the direct Ghostscript line, as render_pdf runs it
	echo "gs -q -dSAFER -dBATCH -dNOPAUSE -dNOPROMPT -dNOINTERPOLATE -sDEVICE=tiffg4 -r204x$1 -g1728x$2 -dFIXEDMEDIA -dPDFFitPage -dPSFitPage -sOutputFile=$work/gs.tif $3"
}

echo "## Rendering (render)"
echo
echo "Measured by \`bench/run.sh --only render\` ($(nproc) CPU, $(date +%Y-%m-%d)); whole process wall clock, median of $runs runs after one warm-up, faxgate and the direct tool alternately; ratio = faxgate / the tool run directly (< 1 is faster)."
echo
echo "| job | pages | faxgate ms/job | ms/page | direct tool | ms/job | ms/page | ratio | KB/page (faxgate) |"
echo "|---|---:|---:|---:|---|---:|---:|---:|---:|"

pdf_row() { # label file res y rows
	pair "$drv pdf $2 $work/ours.tif $3" "$(gsfax "$4" "$5" "$2")"
	pages=$("$drv" pdf "$2" "$work/ours.tif" "$3")
	echo "| $1 | $pages | $(ms "$ours") | $(per_page "$ours" "$pages") | gs \`tiffg4\` | $(ms "$direct") | $(per_page "$direct" "$pages") | $(ratio "$ours" "$direct") | $(kb_page "$work/ours.tif" "$pages") |"
}
pdf_row "PDF → fax, bash(1) A4, fine" "$work/bash.pdf" fine 196 2286
pdf_row "PDF → fax, bash(1) A4, standard" "$work/bash.pdf" standard 98 1143
pdf_row "PDF → fax, curl(1) Letter, fine" "$work/curl.pdf" fine 196 2286
pdf_row "PDF → fax, 1 page, fine" "$work/one.pdf" fine 196 2286

textfmt_note=""
if command -v textfmt >/dev/null 2>&1; then
	# Debian 12's hyla.conf points at gs 8.x font paths: give textfmt the urw-base35 Courier.
	mkdir -p "$work/home/fm"
	echo '/Courier (NimbusMonoPS-Regular.t1) ;' >"$work/home/fm/Fontmap"
	printf 'FontMap: %s\nFontPath: /usr/share/fonts/type1/urw-base35\n' "$work/home/fm" >"$work/home/.hylarc"
fi
text_row() { # label file res y rows
	pages=$("$drv" text "$2" "$work/ours.tif" "$3")
	if command -v textfmt >/dev/null 2>&1; then
		pair "$drv text $2 $work/ours.tif $3" \
			"HOME=$work/home textfmt -B -f Courier -p 10bp -s a4 -Ml=15mm,r=15mm,t=12mm,b=12mm $2 | $(gsfax "$4" "$5" -)"
		tpages=$(tiffinfo "$work/gs.tif" 2>/dev/null | grep -c 'TIFF Directory')
		echo "| $1 | $pages | $(ms "$ours") | $(per_page "$ours" "$pages") | textfmt \\| gs ($tpages p) | $(ms "$direct") | $(per_page "$direct" "$tpages") | $(ratio "$ours" "$direct") | $(kb_page "$work/ours.tif" "$pages") |"
	else
		ours=$(med "$drv text $2 $work/ours.tif $3")
		textfmt_note="textfmt (hylafax-client) is not installed: the text rows have no comparison."
		echo "| $1 | $pages | $(ms "$ours") | $(per_page "$ours" "$pages") | textfmt: not installed | | | | $(kb_page "$work/ours.tif" "$pages") |"
	fi
}
text_row "text → fax, GPL-3, fine" "$work/gpl3.txt" fine 196 2286
text_row "text → fax, GPL-3, standard" "$work/gpl3.txt" standard 98 1143
text_row "text → fax, 5 licences, fine" "$work/licences.txt" fine 196 2286

# Fax TIFF: what render_pdf made of bash(1) (G4, FillOrder 1) and the same pages as spandsp 0.0.6
# stores received faxes (G3 2-D, EOL fill bits, FillOrder 2).
"$drv" pdf "$work/bash.pdf" "$work/fax-g4.tif" fine >/dev/null
tiffcp -c g3:2d:fill -f lsb2msb "$work/fax-g4.tif" "$work/fax-g3.tif"
topdf_row() { # label file
	pages=$("$drv" topdf "$2" "$work/ours.pdf")
	pair "$drv topdf $2 $work/ours.pdf" "tiff2pdf -o $work/t2p.pdf $2"
	echo "| $1 | $pages | $(ms "$ours") | $(per_page "$ours" "$pages") | tiff2pdf | $(ms "$direct") | $(per_page "$direct" "$pages") | $(ratio "$ours" "$direct") | $(kb_page "$work/ours.pdf" "$pages") (tiff2pdf $(kb_page "$work/t2p.pdf" "$pages")) |"
}
topdf_row "fax → PDF, G4 (gs output)" "$work/fax-g4.tif"
topdf_row "fax → PDF, G3 2-D fill 2 (spandsp rx)" "$work/fax-g3.tif"

# On their own: a picture to a page (a synthetic 1200x800 JPEG of gradients and discs), a fax page
# to a PNG preview.
gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=jpeg -r72 -g1200x800 -sOutputFile="$work/photo.jpg" -c \
	'<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 1200 800] /Function << /FunctionType 2 /Domain [0 1] /C0 [1 0.9 0.2] /C1 [0.1 0.2 0.6] /N 1 >> >> shfill 0 1 20 { /i exch def i 50 mul 100 add i 37 mul 150 add 60 0 360 arc i 0.05 mul setgray fill } for showpage'
ours=$(med "$drv image $work/photo.jpg $work/img.tif fine")
echo "| image → fax, 1200x800 JPEG (clustered dot), fine | 1 | $(ms "$ours") | $(ms "$ours") | | | | | $(kb_page "$work/img.tif" 1) |"
ours=$(med "$drv preview $work/fax-g4.tif $work/p.png")
echo "| fax page → PNG preview (100 dpi, grey) | 1 | $(ms "$ours") | $(ms "$ours") | | | | | |"
echo
[ -n "$textfmt_note" ] && echo "$textfmt_note" && echo
exit 0
