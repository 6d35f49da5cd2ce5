# colo-proxy: one Makefile, everything built under build/.
# `make` builds; `make test` runs every test layer this machine supports;
# `make bench` runs the benchmarks; `make demo` runs the live demo (tools/demo.sh).
# V=1 shows full commands.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -MMD -MP
CPPFLAGS += -Icolo-core -Itools -Iproxy -Ibpf -I$(BUILD)/bpf
PKGS      = libpcap libbpf libxdp
ARCH     := $(shell uname -m)
BPF_CFLAGS = -O2 -g -Wall -Werror -target bpf -I/usr/include/$(ARCH)-linux-gnu -Ibpf
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lbpf -lxdp)

ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

# --- sources: adding a file to a folder is all it takes ---
CORE_SRCS  := $(wildcard colo-core/*.c)
PROXY_SRCS := $(wildcard proxy/*.c)
# tools/lib*.c form libtools.a; every other tools/*.c is a program
TLIB_SRCS  := $(wildcard tools/lib*.c)
TOOL_SRCS  := $(filter-out $(TLIB_SRCS),$(wildcard tools/*.c))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
# bpf/NAME.bpf.c -> build/bpf/NAME.bpf.o and its skeleton build/bpf/NAME.skel.h
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
# tests/bpf/test_*.c (BPF_PROG_TEST_RUN, root) and tests/e2e/test_*.c (real
# QEMU): cmocka programs that may also link the proxy's modules
LAYER_SRCS := $(wildcard tests/bpf/test_*.c tests/e2e/test_*.c)

CORE_LIB  := $(BUILD)/libcolo-core.a
TOOLS_LIB := $(BUILD)/libtools.a
PROXY     := $(BUILD)/colo-proxy
TOOLS     := $(patsubst tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
UNITS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
LAYERTESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(LAYER_SRCS))
PROXY_LIB := $(BUILD)/libproxy.a

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GITREV  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

all: $(BPF_OBJS) $(SKELS) $(PROXY) $(TOOLS) $(UNITS) $(LAYERTESTS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/colo_shared.h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)bpftool gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Userspace objects may include skeletons: build those first.
$(PROXY_SRCS:%.c=$(BUILD)/%.o) $(LAYER_SRCS:%.c=$(BUILD)/%.o): | $(SKELS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -DCOLO_VERSION='"$(VERSION) ($(GITREV))"' -c $< -o $@

$(CORE_LIB): $(CORE_SRCS:%.c=$(BUILD)/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(TOOLS_LIB): $(TLIB_SRCS:%.c=$(BUILD)/%.o)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# proxy/*.c but main.c form libproxy.a, which tests may link too
$(PROXY_LIB): $(patsubst %.c,$(BUILD)/%.o,$(filter-out proxy/main.c,$(PROXY_SRCS)))
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(PROXY): $(BUILD)/proxy/main.o $(PROXY_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -ljansson

$(BUILD)/tools/%: $(BUILD)/tools/%.o $(TOOLS_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -ljansson -lm

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TOOLS_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(PKG_LIBS)

$(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(PROXY_LIB) $(TOOLS_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(PKG_LIBS) -ljansson

$(BUILD)/tests/e2e/%: $(BUILD)/tests/e2e/%.o $(PROXY_LIB) $(TOOLS_LIB) $(CORE_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(PKG_LIBS) -ljansson -lpthread

test: all
	$(Q)BUILD=$(BUILD) tests/run.sh

bench: all
	$(Q)BUILD=$(BUILD) tools/bench.sh

# The live demo on a private namespace topology (root; as another user it
# falls back to the offline comparison); demo-offline: the comparison alone.
demo: all
	$(Q)BUILD=$(BUILD) tools/demo.sh

demo-offline: $(PROXY)
	$(Q)BUILD=$(BUILD) tools/demo.sh --offline

# Regenerate the fixture captures in tests/data from tools/mkfixtures.c.
fixtures: $(BUILD)/tools/mkfixtures
	$(Q)./$(BUILD)/tools/mkfixtures tests/data

clean:
	rm -rf $(BUILD)

.PHONY: all test bench demo demo-offline fixtures clean
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
