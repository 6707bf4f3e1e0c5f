/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Job ids: short, time-ordered, unique across hosts, easy to read aloud. Crockford base32
 * (no I, L, O, U) after a kind letter; the digits are in ASCII order, so sorting ids as text
 * sorts them by time.
 */
#include "common/jobid.h"

#include <glib.h>
#include <string.h>
#include <time.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const int64_t epoch_2025_ms = 1735689600000LL;

static void encode(char prefix, uint64_t ticks, unsigned low, char id_r[JOBID_SIZE])
{
	uint64_t value = ((ticks & ((1ULL << 36) - 1)) << 9) | (low & 511);
	id_r[0] = prefix;
	for (int i = JOBID_LEN - 1; i >= 1; i--) {
		id_r[i] = alphabet[value & 31];
		value >>= 5;
	}
	id_r[JOBID_LEN] = '\0';
}

void jobid_make(char prefix, int64_t ms_since_epoch, char id_r[JOBID_SIZE])
{
	encode(prefix, (uint64_t)((ms_since_epoch - epoch_2025_ms) / 100), (unsigned)g_random_int_range(0, 512), id_r);
}

/* Within one process ids never repeat and always increase: the low 9 bits count up from a
   random start (below 256) within a 100 ms tick, and a burst that uses them up borrows the next
   tick.
   Between processes the random start keeps collisions unlikely; the store's primary keys catch
   the rest. */
void jobid_new(char prefix, char id_r[JOBID_SIZE])
{
	static GMutex lock;
	static uint64_t last_tick;
	static unsigned next_low, left;
	uint64_t tick = (uint64_t)((g_get_real_time() / 1000 - epoch_2025_ms) / 100);
	g_mutex_lock(&lock);
	if (tick > last_tick) {
		last_tick = tick;
		next_low = (unsigned)g_random_int_range(0, 256); /* room for a burst of 256 or more */
		left = 512 - next_low;
	} else if (left == 0) {
		last_tick++;
		next_low = 0;
		left = 512;
	}
	encode(prefix, last_tick, next_low, id_r);
	next_low++;
	left--;
	g_mutex_unlock(&lock);
}

void jobid_random(char prefix, char id_r[JOBID_SIZE])
{
	uint64_t high = (uint64_t)g_random_int() << 4 | (g_random_int() & 15);
	encode(prefix, high, g_random_int() & 511, id_r);
}

static int digit_of(char c)
{
	c = g_ascii_toupper(c);
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

int jobid_normalize(const char *text, char id_r[JOBID_SIZE])
{
	if (text == NULL || strlen(text) != JOBID_LEN)
		return -1;
	char prefix = g_ascii_toupper(text[0]);
	if (prefix != JOBID_PREFIX_JOB && prefix != JOBID_PREFIX_INBOUND && prefix != JOBID_PREFIX_MAIL)
		return -1;
	id_r[0] = prefix;
	for (int i = 1; i < JOBID_LEN; i++) {
		int d = digit_of(text[i]);
		if (d < 0)
			return -1;
		id_r[i] = alphabet[d];
	}
	id_r[JOBID_LEN] = '\0';
	return 0;
}

bool jobid_valid(const char *text)
{
	char id[JOBID_SIZE];
	return jobid_normalize(text, id) == 0;
}
