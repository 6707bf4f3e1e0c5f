/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The built-in cover templates: coverpages/templates/<name>.svg (SVG 1.1) compiled in as C
 * strings, so that a cover can be made with no template installed. cover_builtin.c is written
 * by coverpages/templates/mkbuiltin.py; a unit test checks that it matches the .svg files.
 */
#ifndef COVERPAGES_COVER_BUILTIN_H
#define COVERPAGES_COVER_BUILTIN_H

/* The SVG text of built-in template name ("default-a4"), static; NULL when there is none. */
const char *cover_builtin_find(const char *name);
/* The name of built-in template i (0, 1, ...), NULL past the last. */
const char *cover_builtin_name(int i);

#endif
