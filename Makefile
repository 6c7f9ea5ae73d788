# SNItch - a TLS SNI switch.  `make run` for the demo, `make check` for the tests.
#
# Include paths enforce the dependency direction: common/ sees only
# itself, conf/ sees common/, master/ sees common/ and conf/, worker/ and
# backend/ see common/ only.

VERSION	= 0.1.0
CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS	= -D_GNU_SOURCE -DSNITCH_VERSION=\"$(VERSION)\"
ALL_CFLAGS = -std=gnu11 -fPIC $(WARN) $(DEFS) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
LDLIBS_SSL = -lssl -lcrypto

ifeq ($(SAN),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

B	= build

COMMON_SRC	= $(wildcard common/*.c)
CONF_SRC	= $(wildcard conf/*.c)
MASTER_SRC	= $(wildcard master/*.c)
WORKER_SRC	= $(wildcard worker/*.c)
WORKER_LIB_SRC	= $(filter-out worker/main.c,$(WORKER_SRC))
UNIT_SRC	= $(wildcard t/unit/*_test.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

COMMON_OBJ	= $(call obj,$(COMMON_SRC))
CONF_OBJ	= $(call obj,$(CONF_SRC))
MASTER_OBJ	= $(call obj,$(MASTER_SRC))
WORKER_OBJ	= $(call obj,$(WORKER_SRC))
WORKER_LIB_OBJ	= $(call obj,$(WORKER_LIB_SRC))
LIBSNITCH_OBJ	= $(call obj,backend/libsnitch.c common/proxyv2.c common/hostname.c)
UNIT_BIN	= $(patsubst t/unit/%.c,$(B)/t/%,$(UNIT_SRC))

PROGS	= $(B)/snitch $(B)/snitch-worker $(B)/snitch-demo
LIBS	= $(B)/libsnitch.a $(B)/libsnitch.so.1

.PHONY: all check run clean deps deps-test tests
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
$(B)/backend/%.o: backend/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<
$(B)/t/%.o: t/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -Iconf -Iworker -Ibackend -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/libsnitch.a: $(LIBSNITCH_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/libsnitch.so.1: $(LIBSNITCH_OBJ)
	$(CC) $(SAN_FLAGS) -shared -Wl,-soname,libsnitch.so.1 -o $@ $^
	ln -sf libsnitch.so.1 $(B)/libsnitch.so

$(B)/snitch: $(MASTER_OBJ) $(CONF_OBJ) $(B)/libcommon.a
	$(CC) $(SAN_FLAGS) -o $@ $^ -linih -lbsd
$(B)/snitch-worker: $(WORKER_OBJ) $(B)/libcommon.a
	$(CC) $(SAN_FLAGS) -o $@ $^ -lbsd
$(B)/snitch-demo: $(B)/backend/demo.o $(B)/libsnitch.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_SSL)

$(B)/t/%: $(B)/t/%.o $(CONF_OBJ) $(WORKER_LIB_OBJ) $(B)/libsnitch.a $(B)/libcommon.a
	$(CC) $(SAN_FLAGS) -o $@ $^ -linih -lbsd

tests: all $(UNIT_BIN)

# Debian packages: to build, and to run the tests and the demo.
BUILD_PKGS = gcc make libc6-dev libbsd-dev libinih-dev libssl-dev
TEST_PKGS  = bats bats-assert bats-support openssl curl python3 procps \
	     util-linux iproute2 gnutls-bin
deps:
	@t/deps.sh $(BUILD_PKGS)
deps-test:
	@t/deps.sh $(BUILD_PKGS) $(TEST_PKGS)

# Every test twice: as built, and built with ASan+UBSan (any report fails).
check:
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory B=$(B)/san SAN=1 tests
	@SNITCH_BUILDS="$(B) $(B)/san" t/run

run:
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory all
	@t/demo.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
