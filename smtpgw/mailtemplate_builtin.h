/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The built-in mail templates: smtpgw/templates/NAME.LANG.txt and .html compiled in as C
 * strings, so that every mail can be written with no template installed. mailtemplate_builtin.c
 * is written by smtpgw/templates/mkbuiltin.py; a unit test checks that it matches the files.
 */
#ifndef SMTPGW_MAILTEMPLATE_BUILTIN_H
#define SMTPGW_MAILTEMPLATE_BUILTIN_H

/* The text of built-in template file ("sent.en.txt"), static; NULL when there is none. */
const char *mail_template_builtin_find(const char *file);
/* The file name of built-in template i (0, 1, ...), NULL past the last. */
const char *mail_template_builtin_name(int i);

#endif
