/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mkfaxtiff: write a multi-page TIFF-F test document (ITU-T T.6 "G4" coded, 1728 pixels wide,
 * 204 dpi across, T.4 standard/fine/superfine rows for A4 or Letter, resolution tags and
 * PageNumber set). Every page shows its number in big blocks plus pseudo-text drawn from the
 * seed, so tests can tell pages apart (faxd/tiffpages.c compares them).
 *
 *   mkfaxtiff OUT.tiff [--pages N] [--res standard|fine|superfine] [--paper a4|letter] [--seed S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faxd/tiffpages.h"

static int usage(void)
{
	fprintf(stderr, "usage: mkfaxtiff OUT.tiff [--pages N] [--res standard|fine|superfine] "
			"[--paper a4|letter] [--seed S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int pages = 1;
	enum tiffpages_res res = TIFFPAGES_RES_FINE;
	enum tiffpages_paper paper = TIFFPAGES_PAPER_A4;
	unsigned long seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--pages") == 0 && v != NULL) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end != '\0' || n < 1 || n > 10000)
				return usage();
			pages = (int)n;
			i++;
		} else if (strcmp(a, "--res") == 0 && v != NULL) {
			if (strcmp(v, "standard") == 0)
				res = TIFFPAGES_RES_STANDARD;
			else if (strcmp(v, "fine") == 0)
				res = TIFFPAGES_RES_FINE;
			else if (strcmp(v, "superfine") == 0)
				res = TIFFPAGES_RES_SUPERFINE;
			else
				return usage();
			i++;
		} else if (strcmp(a, "--paper") == 0 && v != NULL) {
			if (strcmp(v, "a4") == 0)
				paper = TIFFPAGES_PAPER_A4;
			else if (strcmp(v, "letter") == 0)
				paper = TIFFPAGES_PAPER_LETTER;
			else
				return usage();
			i++;
		} else if (strcmp(a, "--seed") == 0 && v != NULL) {
			char *end;
			seed = strtoul(v, &end, 10);
			if (*end != '\0')
				return usage();
			i++;
		} else if (a[0] != '-' && out == NULL) {
			out = a;
		} else {
			return usage();
		}
	}
	if (out == NULL)
		return usage();
	const char *err;
	if (tiffpages_write_test(out, pages, res, paper, (uint32_t)seed, &err) < 0) {
		fprintf(stderr, "mkfaxtiff: %s: %s\n", out, err);
		return 1;
	}
	return 0;
}
