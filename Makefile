# SPDX-License-Identifier: GPL-3.0-or-later
# faxgate: one non-recursive GNU Makefile.
#
# Every folder below is a module: its *.c files (less *_main.c) make build/lib<folder>.a, and
# each <name>_main.c in it makes the program bin/<name>. Unit tests tests/unit/<folder>/test_*.c
# and fuzz harnesses tests/fuzz/fuzz_*.c are found the same way, so adding a file needs no edit here.
#
#   make            build every program into bin/
#   make deps       install the Debian packages (deps/packages.debian) when root
#   make test       deps + build + unit tests + fuzz corpus replay (ASan) + integration tests
#   make check      the same tests with every program built under ASan+UBSan
#   make run        deps + build + bin/faxgate run on the embedded default
#   make bench      benchmarks (bench/), figures for docs/PERFORMANCE.md
#   make fuzz       libFuzzer builds of the harnesses (clang), into build-fuzz/
#   make install    PREFIX=/usr/local DESTDIR=

MODULES  := common faxd smtpgw render coverpages profiles ldapsync faxctl supervisor
PKGS     := glib-2.0 gio-2.0 sqlite3 spandsp libtiff-4 libcrypt openssl gmime-3.0 libytnef pangocairo gdk-pixbuf-2.0 zlib libpng librsvg-2.0 libesmtp-1.0 ldap sofia-sip-ua
PREFIX   ?= /usr/local
DESTDIR  ?=
O        ?= build
BIN      ?= bin
SAN      ?=

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP $(if $(SAN),$(SANFLAGS))
ALL_LDFLAGS = $(LDFLAGS) $(if $(SAN),$(SANFLAGS))
LIBS     = $(PKG_LIBS) -lm -lpthread

lib_srcs  = $(filter-out %_main.c,$(wildcard $(1)/*.c))
LIB_OBJS  := $(foreach m,$(MODULES),$(patsubst %.c,$(O)/%.o,$(call lib_srcs,$(m))))
MAIN_SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*_main.c))
PROGRAMS  := $(foreach s,$(MAIN_SRCS),$(BIN)/$(patsubst %_main.c,%,$(notdir $(s))))
LIBFILES  := $(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(O)/lib$(m).a))

UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst %.c,$(O)/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BINS := $(patsubst tests/fuzz/fuzz_%.c,$(O)/tests/fuzz/replay_%,$(FUZZ_SRCS))
TEST_HELPERS := $(patsubst %.c,$(O)/%,$(wildcard tests/helpers/*.c))

.PHONY: all deps test check run bench fuzz install clean unit-bins replay-bins config-doc
.DEFAULT_GOAL := all

all: $(PROGRAMS)

deps:
	@./scripts/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

define module_lib
$(O)/lib$(1).a: $(patsubst %.c,$(O)/%.o,$(call lib_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(eval $(call module_lib,$(m)))))

LINK_LIBS = -Wl,--start-group $(LIBFILES) -Wl,--end-group

define program
$(BIN)/$(patsubst %_main.c,%,$(notdir $(1))): $(patsubst %.c,$(O)/%.o,$(1)) $(LIBFILES)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$< $$(LINK_LIBS) $$(LIBS)
endef
$(foreach s,$(MAIN_SRCS),$(eval $(call program,$(s))))

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(LIBFILES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS) $(LIBS) $(shell pkg-config --libs cmocka)

$(O)/tests/helpers/%: $(O)/tests/helpers/%.o $(LIBFILES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS) $(LIBS)

# Fuzz corpus replay: the harness with a plain main() that feeds it every file of its corpus.
$(O)/tests/fuzz/replay_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/replay_main.o $(LIBFILES)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LINK_LIBS) $(LIBS)

unit-bins: $(UNIT_BINS) $(TEST_HELPERS)
replay-bins: $(REPLAY_BINS)

test: deps
	$(MAKE) all unit-bins
	$(MAKE) O=build-asan SAN=1 BIN=build-asan/bin replay-bins
	./tests/run.sh --build $(O) --bin $(BIN) --replay build-asan

check: deps
	$(MAKE) O=build-asan SAN=1 BIN=build-asan/bin all unit-bins replay-bins
	./tests/run.sh --build build-asan --bin build-asan/bin --replay build-asan

run: deps all $(O)/tests/helpers/mkfaxtiff
	@mkdir -p var && [ -f var/sample.tiff ] || $(O)/tests/helpers/mkfaxtiff var/sample.tiff --pages 2 --res fine
	./$(BIN)/faxgate run

bench: deps all
	./bench/run.sh

FUZZ_CC := clang
fuzz: deps
	$(MAKE) O=build-fuzz CC=$(FUZZ_CC) SAN=1 BIN=build-fuzz/bin CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" $(LIBFILES:$(O)/%=build-fuzz/%) \
		$(patsubst tests/fuzz/fuzz_%.c,build-fuzz/tests/fuzz/fuzz_%.o,$(FUZZ_SRCS))
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		echo "link build-fuzz/$$n"; \
		$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o build-fuzz/$$n build-fuzz/tests/fuzz/$$n.o \
			-Wl,--start-group $(LIBFILES:$(O)/%=build-fuzz/%) -Wl,--end-group $(LIBS) || exit 1; done
	@echo "run e.g.: build-fuzz/fuzz_udptl tests/fuzz/corpus/udptl -max_total_time=60"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/faxgate $(DESTDIR)/etc/faxgate
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 etc/faxgate.conf.example $(DESTDIR)$(PREFIX)/share/faxgate/
	install -d $(DESTDIR)$(PREFIX)/share/faxgate/covers $(DESTDIR)/etc/faxgate/covers
	install -m 644 coverpages/templates/*.svg $(DESTDIR)$(PREFIX)/share/faxgate/covers/
	install -d $(DESTDIR)$(PREFIX)/share/faxgate/mail-templates $(DESTDIR)/etc/faxgate/mail-templates
	install -m 644 smtpgw/templates/*.txt smtpgw/templates/*.html $(DESTDIR)$(PREFIX)/share/faxgate/mail-templates/

clean:
	rm -rf build build-asan build-fuzz bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# Rewrite the key tables of docs/config.md from common/config_keys.c (the introduction is kept).
config-doc: $(O)/libcommon.a
	$(CC) $(ALL_CFLAGS) -o $(O)/config_doc scripts/config_doc.c $(O)/libcommon.a $(LIBS)
	{ sed '/^## \[/,$$d' docs/config.md; $(O)/config_doc; } > docs/config.md.new && mv docs/config.md.new docs/config.md
