/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one place faxd includes sofia-sip (faxd/sip_ua.c only). The magic types are fixed here,
 * before the headers that use them, and the headers are read with the warnings our build makes
 * errors switched off: sofia 1.12's headers are written for older compilers (unused parameters,
 * prototypes without arguments), and weakening the global flags would hide our own mistakes.
 */
#ifndef FAXD_SIP_UA_PRIVATE_H
#define FAXD_SIP_UA_PRIVATE_H

struct sip_ua;
struct sip_call;

#define SU_ROOT_MAGIC_T struct sip_ua
#define NUA_MAGIC_T struct sip_ua
#define NUA_HMAGIC_T struct sip_call
#define SU_TIMER_ARG_T struct sip_call

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-value"
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/su_uniqueid.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/nta_tag.h>
#pragma GCC diagnostic pop

#endif
