# SNItch - a TLS SNI switch.  `make run` for the demo, `make check` for the tests.
#
# Include paths enforce the dependency direction: common/ sees only
# itself, conf/ sees common/, master/ sees common/ and conf/, worker/,
# stats/ and libsnitch/ see common/ only; tools/ see common/ and
# libsnitch/.

VERSION	= 0.1.0
CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS	= -D_GNU_SOURCE -DSNITCH_VERSION=\"$(VERSION)\"
# CPPFLAGS and LDFLAGS are empty for a developer's make; a package build
# passes its distribution's (debian/rules: dpkg-buildflags, hardening)
ALL_CFLAGS = -std=gnu11 -fPIC $(WARN) $(DEFS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)
LDLIBS_SSL = -lssl -lcrypto

ifeq ($(SAN),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# Debug only: a worker given the server name sandbox-probe.invalid makes
# a system call its sandbox forbids (t/sandbox.bats builds this apart)
ifeq ($(SANDBOX_PROBE),1)
DEFS	+= -DSNITCH_SANDBOX_PROBE
endif

B	= build

COMMON_SRC	= $(wildcard common/*.c)
CONF_SRC	= $(wildcard conf/*.c)
MASTER_SRC	= $(wildcard master/*.c)
WORKER_SRC	= $(wildcard worker/*.c)
STATS_SRC	= $(wildcard stats/*.c)
WORKER_LIB_SRC	= $(filter-out worker/main.c worker/sandbox.c,$(WORKER_SRC))
UNIT_SRC	= $(wildcard t/unit/*_test.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

COMMON_OBJ	= $(call obj,$(COMMON_SRC))
CONF_OBJ	= $(call obj,$(CONF_SRC))
MASTER_OBJ	= $(call obj,$(MASTER_SRC))
WORKER_OBJ	= $(call obj,$(WORKER_SRC))
STATS_OBJ	= $(call obj,$(STATS_SRC))
WORKER_LIB_OBJ	= $(call obj,$(WORKER_LIB_SRC))
LIBSNITCH_OBJ	= $(call obj,libsnitch/channel.c libsnitch/listen.c \
		  libsnitch/server.c common/ack.c common/proxyv2.c \
		  common/hostname.c common/ids.c common/sockfile.c)
UNIT_BIN	= $(patsubst t/unit/%.c,$(B)/t/%,$(UNIT_SRC))

PROGS	= $(B)/snitch $(B)/snitch-worker $(B)/snitch-stats $(B)/snitch-demo \
	  $(B)/snitch-exec $(B)/snitch-relay
LIBS	= $(B)/libsnitch.a $(B)/libsnitch.so.1

.PHONY: all check run clean deps deps-test tests install uninstall deb \
	install-systemd uninstall-systemd install-user
.SECONDARY:
all: $(PROGS) $(LIBS)

$(B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/conf/%.o: conf/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/master/%.o: master/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -Iconf -c -o $@ $<
$(B)/worker/%.o: worker/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/stats/%.o: stats/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/libsnitch/%.o: libsnitch/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -Ilibsnitch -c -o $@ $<
$(B)/t/%.o: t/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -Iconf -Iworker -Ilibsnitch -Itools -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/libsnitch.a: $(LIBSNITCH_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/libsnitch.so.1: $(LIBSNITCH_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libsnitch.so.1 -o $@ $^
	ln -sf libsnitch.so.1 $(B)/libsnitch.so

$(B)/snitch: $(MASTER_OBJ) $(CONF_OBJ) $(B)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -linih -lbsd
# only the worker and snitch-stats link libseccomp: their sandboxes
# (worker/sandbox.c; stats/sandbox.c with common/confine.c)
$(B)/snitch-worker: $(WORKER_OBJ) $(B)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lbsd -lseccomp
$(B)/snitch-stats: $(STATS_OBJ) $(B)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lbsd -lseccomp
$(B)/snitch-demo: $(B)/tools/demo.o $(B)/common/dumpable.o $(B)/libsnitch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_SSL)
# the backend programs share service.c and name the common/ objects they
# use: they log, send alerts and tell a service manager their successor
SERVICE_OBJ = $(B)/tools/service.o $(B)/common/log.o $(B)/common/logsink.o \
	      $(B)/common/fdslot.o \
	      $(B)/common/alert.o $(B)/common/notifyaddr.o \
	      $(B)/common/dumpable.o
$(B)/snitch-exec: $(B)/tools/exec.o $(B)/tools/fair.o \
		  $(B)/common/netblock.o $(SERVICE_OBJ) \
		  $(B)/libsnitch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^
# relay.c also sends PROXY headers: proxyv2.o comes with libsnitch.a
$(B)/snitch-relay: $(B)/tools/relay.o $(SERVICE_OBJ) $(B)/libsnitch.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(B)/t/%: $(B)/t/%.o $(CONF_OBJ) $(WORKER_LIB_OBJ) $(B)/libsnitch.a $(B)/libcommon.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -linih -lbsd
# snitch-exec's fairness is pure code too: its test links it
$(B)/t/fair_test: $(B)/tools/fair.o

# the Python module's unit tests (python/tests), as a program t/run runs
$(B)/t/python_snitch_test: python/tests/snitch_test.py
	@mkdir -p $(@D)
	printf '#!/bin/sh\n# the interpreter of the bats suites (t/lib.bash)\n: "$${PYTHON:=$$(command -v /usr/bin/python3 || command -v python3)}"\nexec "$$PYTHON" %s "$$@"\n' "$(abspath $<)" >$@
	chmod 755 $@

# The Go package (go/): its test binary, run by t/run as build/t/go_test,
# and its examples, for t/go.bats.  Only `make tests` builds them, and
# only when a Go toolchain is installed; the C build never needs Go.
# Offline: the standard library only, the build's own GOPATH and cache.
GO	?= $(shell command -v go 2>/dev/null)
GO_ENV	= GOPATH=$(abspath $(B))/go/path GOCACHE=$(abspath $(B))/go/cache \
	  GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0
GO_SRC	= go/go.mod $(wildcard go/*.go)
ifneq ($(GO),)
GO_BIN	= $(B)/go/snitch-go-https $(B)/go/snitch-go-getcert
# The package's own tests are the same binary on the sanitizer pass (no
# sanitizer applies to Go): built and run on the first pass only.
ifneq ($(SAN),1)
GO_BIN	+= $(B)/t/go_test $(B)/go/snitch.test
endif
endif
$(B)/go/snitch.test: $(GO_SRC)
	@mkdir -p $(@D)
	cd go && $(GO_ENV) $(GO) test -c -o $(abspath $@) .
$(B)/go/snitch-go-%: $(GO_SRC) $(wildcard go/examples/*/*.go)
	@mkdir -p $(@D)
	cd go && $(GO_ENV) $(GO) build -o $(abspath $@) ./examples/$*
$(B)/t/go_test: t/go_test.sh
	@mkdir -p $(@D)
	cp $< $@ && chmod 755 $@

tests: all $(UNIT_BIN) $(B)/t/python_snitch_test $(GO_BIN)

# Debian packages: to build, and to run the tests and the demo.
BUILD_PKGS = gcc make libc6-dev libbsd-dev libinih-dev libssl-dev \
	     libseccomp-dev
TEST_PKGS  = bats bats-assert bats-support openssl curl python3 procps \
	     python3-prometheus-client \
	     util-linux iproute2 gnutls-bin chromium clang \
	     libclang-rt-14-dev stunnel4 nginx-light pkgconf mandoc systemd \
	     openssh-server openssh-client golang-go \
	     haproxy libnginx-mod-stream nftables
deps:
	@t/deps.sh $(BUILD_PKGS)
deps-test:
	@t/deps.sh $(BUILD_PKGS) $(TEST_PKGS)

# The Debian packages (debian/): dpkg-buildpackage -us -uc -b on a copy
# of the files git tracks, as they are in the work tree (uncommitted
# edits in, untracked files out), in $(B)/deb/src, so that its
# `debian/rules clean` never removes this tree's build.  The .debs land
# in $(B)/deb/.  t/deb.bats builds from a fresh clone instead.
DEB_PKGS = $(BUILD_PKGS) debhelper dh-python dpkg-dev python3 pkgconf git
deb:
	@t/deps.sh $(DEB_PKGS)
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { \
	    echo "make deb copies the files git tracks: run it in a git" \
	        "checkout, or dpkg-buildpackage -us -uc -b here" >&2; exit 1; }
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/src
	git ls-files -z | tar --null --ignore-failed-read -T - -cf - | \
	    tar -x -C $(B)/deb/src
	cd $(B)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(B)/deb/*.deb

# Every test twice: as built, and built with ASan+UBSan (any report fails).
check:
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory B=$(B)/san SAN=1 tests
	@SNITCH_BUILDS="$(B) $(B)/san" t/run

# Install
#
#   make install [PREFIX=/usr/local] [DESTDIR=...] [B=build]
#   make uninstall (the same variables: it removes exactly those files)
#
# GNU-style directories, each overridable on the command line.  snitch
# finds snitch-worker next to its own binary (/proc/self/exe), so both go
# to sbindir, whatever sbindir is.  Nothing is written to sysconfdir: an
# operator's /etc/snitch/snitch.ini is theirs; the example goes to
# docdir.  snitch-stats goes there too (the master finds it the same
# way).  Every file in systemd/*.service and systemd/*.socket (if any)
# goes to systemdunitdir, with @sbindir@, @bindir@ and @sysconfdir@
# replaced.  ldconfig runs only for a real install (no DESTDIR) as root,
# and so does install-user (below).
PREFIX		= /usr/local
prefix		= $(PREFIX)
exec_prefix	= $(prefix)
bindir		= $(exec_prefix)/bin
sbindir		= $(exec_prefix)/sbin
libdir		= $(exec_prefix)/lib
includedir	= $(prefix)/include
datarootdir	= $(prefix)/share
datadir		= $(datarootdir)
mandir		= $(datarootdir)/man
docdir		= $(datadir)/doc/snitch
sysconfdir	= /etc
pkgconfigdir	= $(libdir)/pkgconfig
systemdunitdir	= $(prefix)/lib/systemd/system
INSTALL		= install
LDCONFIG	= ldconfig

SBIN_PROGS	= snitch snitch-worker snitch-stats snitch-exec snitch-relay
BIN_PROGS	= snitch-demo
MAN3		= libsnitch.3
MAN3_LINKS	= snitch_listen.3 snitch_accept.3 snitch_recv.3 \
		  snitch_alpn_next.3 snitch_tlv.3 snitch_addr_format.3 \
		  snitch_open.3 snitch_next.3 snitch_close.3 snitch_accept_peer.3 \
		  snitch_peer_uid.3 snitch_open_peer.3 snitch_listen_flags.3 \
		  snitch_unlink.3 snitch_recv_batch.3 snitch_ack.3 \
		  snitch_quiesce.3 snitch_open_flags.3 snitch_drain.3
MAN5		= snitch.ini.5
MAN7		= snitch-handoff.7
MAN8		= snitch.8 snitch-exec.8 snitch-relay.8
SYSTEMD_UNITS	= $(wildcard systemd/*.service systemd/*.socket)

# the directory variables substituted in snitch.pc.in and the units
SUBST	= sed -e 's|@prefix@|$(prefix)|g' -e 's|@libdir@|$(libdir)|g' \
	  -e 's|@includedir@|$(includedir)|g' -e 's|@bindir@|$(bindir)|g' \
	  -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' \
	  -e 's|@VERSION@|$(VERSION)|g'

install: all install-systemd install-user
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) \
	    $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) \
	    $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(docdir) \
	    $(DESTDIR)$(mandir)/man3 $(DESTDIR)$(mandir)/man5 \
	    $(DESTDIR)$(mandir)/man7 $(DESTDIR)$(mandir)/man8
	$(INSTALL) -m 755 $(addprefix $(B)/,$(SBIN_PROGS)) $(DESTDIR)$(sbindir)
	$(INSTALL) -m 755 $(addprefix $(B)/,$(BIN_PROGS)) $(DESTDIR)$(bindir)
	$(INSTALL) -m 644 $(B)/libsnitch.so.1 $(B)/libsnitch.a \
	    $(DESTDIR)$(libdir)
	ln -sf libsnitch.so.1 $(DESTDIR)$(libdir)/libsnitch.so
	$(INSTALL) -m 644 libsnitch/snitch.h $(DESTDIR)$(includedir)
	$(SUBST) snitch.pc.in >$(B)/snitch.pc
	$(INSTALL) -m 644 $(B)/snitch.pc $(DESTDIR)$(pkgconfigdir)
	$(INSTALL) -m 644 snitch.ini.example $(DESTDIR)$(docdir)
	$(INSTALL) -m 644 $(addprefix man/,$(MAN3)) $(DESTDIR)$(mandir)/man3
	for f in $(MAN3_LINKS); do \
	    ln -sf $(MAN3) $(DESTDIR)$(mandir)/man3/$$f || exit 1; done
	$(INSTALL) -m 644 $(addprefix man/,$(MAN5)) $(DESTDIR)$(mandir)/man5
	$(INSTALL) -m 644 $(addprefix man/,$(MAN7)) $(DESTDIR)$(mandir)/man7
	$(INSTALL) -m 644 $(addprefix man/,$(MAN8)) $(DESTDIR)$(mandir)/man8
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
	    echo $(LDCONFIG); $(LDCONFIG) || true; fi

# the units need nothing built: `make -f` it from another directory
install-systemd:
ifneq ($(SYSTEMD_UNITS),)
	@mkdir -p $(B)/systemd
	for f in $(notdir $(SYSTEMD_UNITS)); do \
	    $(SUBST) systemd/$$f >$(B)/systemd/$$f || exit 1; done
	$(INSTALL) -d $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 644 $(addprefix $(B)/,$(SYSTEMD_UNITS)) \
	    $(DESTDIR)$(systemdunitdir)
endif

# The system user and group snitch, which snitch.ini.example's `user`
# names and the units expect: a user of SNItch's own, since any other
# process of its uid can signal SNItch's processes and connect to the
# backends as SNItch.  Made only by a real install (no DESTDIR) as root,
# if missing: a DESTDIR install (a package being built) never touches
# this machine's users; a package makes them when it is installed (on
# Debian, adduser --system in its postinst).  make uninstall leaves them:
# files may still be theirs (an access log).
SNITCH_USER	= snitch
install-user:
	@if [ -n "$(DESTDIR)" ] || [ "$$(id -u)" -ne 0 ]; then \
	    getent passwd $(SNITCH_USER) >/dev/null || echo "note: no" \
	        "user $(SNITCH_USER) made (DESTDIR set, or not root): create" \
	        "it where SNItch runs (snitch.ini(5), user)"; \
	else \
	    if ! getent group $(SNITCH_USER) >/dev/null; then \
	        echo groupadd --system $(SNITCH_USER); \
	        groupadd --system $(SNITCH_USER) || exit 1; fi; \
	    if ! getent passwd $(SNITCH_USER) >/dev/null; then \
	        echo useradd --system $(SNITCH_USER); \
	        useradd --system --gid $(SNITCH_USER) --no-create-home \
	            --home-dir /nonexistent --shell /usr/sbin/nologin \
	            --comment "SNItch TLS SNI switch" $(SNITCH_USER) || \
	            exit 1; fi; \
	fi

uninstall: uninstall-systemd
	rm -f $(addprefix $(DESTDIR)$(sbindir)/,$(SBIN_PROGS)) \
	    $(addprefix $(DESTDIR)$(bindir)/,$(BIN_PROGS)) \
	    $(DESTDIR)$(libdir)/libsnitch.so.1 \
	    $(DESTDIR)$(libdir)/libsnitch.so $(DESTDIR)$(libdir)/libsnitch.a \
	    $(DESTDIR)$(includedir)/snitch.h \
	    $(DESTDIR)$(pkgconfigdir)/snitch.pc \
	    $(DESTDIR)$(docdir)/snitch.ini.example \
	    $(addprefix $(DESTDIR)$(mandir)/man3/,$(MAN3) $(MAN3_LINKS)) \
	    $(addprefix $(DESTDIR)$(mandir)/man5/,$(MAN5)) \
	    $(addprefix $(DESTDIR)$(mandir)/man7/,$(MAN7)) \
	    $(addprefix $(DESTDIR)$(mandir)/man8/,$(MAN8))
	rmdir $(DESTDIR)$(docdir) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
	    echo $(LDCONFIG); $(LDCONFIG) || true; fi

uninstall-systemd:
ifneq ($(SYSTEMD_UNITS),)
	rm -f $(addprefix $(DESTDIR)$(systemdunitdir)/,$(notdir $(SYSTEMD_UNITS)))
endif
# end of Install

run:
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory all
	@t/demo.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Fuzzing
#
# libFuzzer harnesses for what parses untrusted bytes (t/fuzz/*_fuzz.c),
# built with clang and ASan+UBSan into $(B)/fuzz/.  t/fuzz/run.sh runs
# them and prints TAP; they only ever fuzz a copy of the in-tree corpus
# (t/fuzz/corpus/NAME/, made by t/fuzz/capture.sh), kept in $(B)/fuzz/.
#
#   make fuzz         each fuzzer FUZZ_TIME seconds (default 600), at once
#   make fuzz-check   replay the corpus, then each FUZZ_SMOKE seconds
#                     (default 20); any crash, leak or trap fails
FUZZ_CC		= clang
FUZZ_CFLAGS	= -g -O1 -fsanitize=fuzzer,address,undefined \
		  -fno-sanitize-recover=all -fno-omit-frame-pointer \
		  -std=gnu11 $(WARN) $(DEFS)
FUZZ_TIME	= 600
FUZZ_SMOKE	= 20
FUZZ_B		= $(B)/fuzz
FUZZERS		= $(FUZZ_B)/clienthello_fuzz $(FUZZ_B)/conf_fuzz \
		  $(FUZZ_B)/ack_fuzz $(FUZZ_B)/proxyin_fuzz \
		  $(FUZZ_B)/httphead_fuzz
FUZZ_HDRS	= $(wildcard common/*.h conf/*.h)

.PHONY: fuzz fuzz-check fuzz-build

$(FUZZ_B)/clienthello_fuzz: t/fuzz/clienthello_fuzz.c common/clienthello.c \
    common/hostname.c common/names.c common/routes.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icommon -o $@ $(filter %.c,$^)
$(FUZZ_B)/conf_fuzz: t/fuzz/conf_fuzz.c conf/conf.c common/wconf.c \
    common/names.c common/routes.c common/hostname.c common/log.c \
    common/logsink.c common/fdslot.c common/netblock.c \
    common/ids.c \
    $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icommon -Iconf -o $@ $(filter %.c,$^) -linih \
	    -lbsd

$(FUZZ_B)/ack_fuzz: t/fuzz/ack_fuzz.c common/ack.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icommon -o $@ $(filter %.c,$^)

$(FUZZ_B)/proxyin_fuzz: t/fuzz/proxyin_fuzz.c common/proxyin.c \
    t/unit/proxyin_same.h $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icommon -o $@ $(filter %.c,$^)

$(FUZZ_B)/httphead_fuzz: t/fuzz/httphead_fuzz.c common/httphead.c \
    common/hostname.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icommon -o $@ $(filter %.c,$^)

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	@FUZZ_DIR=$(FUZZ_B) FUZZ_TIME=$(FUZZ_TIME) SNITCH_FUZZ_BUILT=1 \
	    t/fuzz/run.sh long

fuzz-check: fuzz-build
	@FUZZ_DIR=$(FUZZ_B) FUZZ_SMOKE=$(FUZZ_SMOKE) SNITCH_FUZZ_BUILT=1 \
	    t/fuzz/run.sh check

# Benchmarks
#
# SNItch side by side with HAProxy, nginx (stream, ssl_preread) and
# sniproxy, and a direct run without a switch (bench/run.sh; results in
# bench/RESULTS.md).  bench/setup.sh installs the three from Debian.
# The relay runs put SNItch with snitch-relay (built by `all`) beside
# them on the same TCP backends.
#
#   make bench         build, install, run (about 14 minutes), write
#                      bench/RESULTS.md and print it
#   make bench-restart the backend restart runs alone (about 2 minutes:
#                      failed clients while a backend is restarted by
#                      SIGKILL and SIGTERM), into bench/out/restart.md,
#                      printed; RESULTS.md is left as it is
#   make bench-ack     the acknowledgement runs alone (under a minute:
#                      SNItch's rate with libsnitch backends at handoff
#                      protocol version 2 and at version 1, alternated),
#                      into bench/out/ack.md, printed
#   make bench-flood   the flood runs alone (about 2 minutes: the rate of
#                      real clients with no flood, then while 45,000
#                      half-hellos, then 45,000 silent connections are
#                      held), into bench/out/flood.md, printed
#   make bench-proxy   the PROXY input runs alone (about 1.5 minutes: each
#                      switch's rate and latency with a PROXY header in
#                      front of the hello, over the same switch's
#                      without), into bench/out/proxy.md, printed
#   make bench-http    the HTTP routing runs alone (about 1.5 minutes:
#                      plain HTTP routed by Host, SNItch's listen_http
#                      beside HAProxy, nginx and sniproxy), into
#                      bench/out/http.md, printed
#   make bench-dribble the dribbled-hello runs alone (about 2 minutes:
#                      each switch's CPU per hello sent a byte per
#                      segment), into bench/out/dribble.md, printed
#   make bench-route   the route table alone: 1,000,000 names, load time
#                      and lookups/s, into RESULTS.md's route section
BENCH_B		= $(B)/bench
BENCH_BINS	= $(BENCH_B)/bench-backend $(BENCH_B)/bench-load \
		  $(BENCH_B)/bench-flood $(BENCH_B)/bench-route

# the phases that run alone: make bench-PHASE, BENCH_ONLY=PHASE
BENCH_PHASES	= proxy ack restart flood http dribble

.PHONY: bench $(BENCH_PHASES:%=bench-%) bench-route bench-build

$(BENCH_B)/bench-backend: bench/backend.c $(B)/libsnitch.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibsnitch -o $@ $< $(B)/libsnitch.a
$(BENCH_B)/bench-load: bench/load.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $<
$(BENCH_B)/bench-flood: bench/flood.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $<
$(BENCH_B)/bench-route: bench/route.c $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -o $@ $< $(B)/libcommon.a -lbsd

bench-build: all $(BENCH_BINS)

bench:
	@$(MAKE) --no-print-directory deps
	@bench/setup.sh
	@$(MAKE) --no-print-directory bench-build
	@BENCH_COMMAND="make bench" bench/run.sh

$(BENCH_PHASES:%=bench-%):
	@$(MAKE) --no-print-directory deps
	@bench/setup.sh
	@$(MAKE) --no-print-directory bench-build
	@BENCH_ONLY=$(@:bench-%=%) BENCH_COMMAND="make $@" bench/run.sh

bench-route: $(BENCH_B)/bench-route
	@bench/route.sh $(BENCH_B)/bench-route
# end of Benchmarks
