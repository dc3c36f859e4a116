# vtdscope — build, test, install.
#   make            libvtd (static + shared), tools
#   make check      install missing deps, build normal + ASan/UBSan, run every test
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
# Out-of-tree: O=dir (default build), SAN=1 for the sanitizer build.

O ?= build
SAN ?= 0
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin

CC ?= gcc
OPT ?= -O2
CFLAGS_ALL := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror $(OPT) -g -Iinclude $(CFLAGS)
# tests and the generator also see testdata/ headers
$(O)/tests/%.o $(O)/testdata/%.o: CFLAGS_ALL += -Itestdata -Itests -I.
LDFLAGS_ALL := $(LDFLAGS)
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS_ALL += $(SANFLAGS)
LDFLAGS_ALL += $(SANFLAGS)
endif

DUMPLIBS := $(shell pkg-config --libs libkdumpfile 2>/dev/null || echo -lkdumpfile) -lz -llzo2 -lsnappy -lzstd -lelf
DUMPCFLAGS := $(shell pkg-config --cflags libkdumpfile 2>/dev/null)

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
TD_SRCS := $(filter-out testdata/vtd-gen.c,$(wildcard testdata/*.c))
TD_OBJS := $(TD_SRCS:%.c=$(O)/%.o)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(O)/tests/%)
SCENARIOS := $(wildcard testdata/scenarios/*.scn)
SOVER := 0

CLI_SRCS := $(filter-out cli/makedumpfile-vtd.c,$(wildcard cli/*.c)) $(wildcard commands/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/%.o)
CLILIBS := $(DUMPLIBS) -ldw -lelf

.PHONY: all lib tests gen check check-build install clean demo bench deps
all: lib $(O)/vtd $(O)/makedumpfile-vtd $(O)/mock-vmlinux

# crash> vtd: built against Debian's crash (defs.h) with crash's own
# extension flags; it needs nothing but crash's exports and libc.
CRASH_EXTDIR ?= /usr/lib/crash/extensions
ifneq ($(SAN),1)
all: $(O)/vtd.so
tests: $(O)/vtd.so
endif
$(O)/vtd.so: plugin/vtd.c $(O)/commands/commands.o $(O)/commands/sink.o $(O)/commands/lost.o $(O)/libvtd.a \
		$(O)/libnoteread.a $(wildcard include/vtd/*.h) commands/commands.h cli/image.h
	$(CC) -Wall -Werror -O2 -g -shared -rdynamic -fPIC -DX86_64 -DGDB_10_2 \
		-Wl,--exclude-libs,ALL -I/usr/include/crash -Iinclude -I. -o $@ plugin/vtd.c \
		$(O)/commands/commands.o $(O)/commands/sink.o $(O)/commands/lost.o \
		$(O)/libnoteread.a $(O)/libvtd.a

# the record reader alone (no decompressors): crash> vtd reads a dump's marks
$(O)/libnoteread.a: $(O)/cli/noteread.o
	@rm -f $@
	ar rcs $@ $^

lib: $(O)/libvtd.a $(O)/libvtd.so

$(O)/%.o: %.c $(wildcard include/vtd/*.h) $(wildcard testdata/*.h) $(wildcard tests/*.h) $(wildcard cli/*.h) $(wildcard commands/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DUMPCFLAGS) -fPIC -c -o $@ $<

$(O)/libvtd.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/libvtd.so: $(LIB_OBJS)
	$(CC) $(LDFLAGS_ALL) -shared -Wl,-soname,libvtd.so.$(SOVER) -o $@ $^

$(O)/cli/%.o $(O)/commands/%.o: CFLAGS_ALL += -I. -Icli

$(O)/vtd: $(CLI_OBJS) $(O)/libvtd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CLILIBS)

# makedumpfile-vtd: the dump readers, kernel information and image patcher
# of the CLI, without its commands
$(O)/makedumpfile-vtd: $(O)/cli/makedumpfile-vtd.o $(filter-out $(O)/cli/vtd.o $(O)/commands/%,$(CLI_OBJS)) $(O)/libvtd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CLILIBS)

$(O)/testdata/libtd.a: $(TD_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/vtd-gen: $(O)/testdata/vtd-gen.o $(O)/testdata/libtd.a $(O)/libvtd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DUMPLIBS)

# a test helper: kdump files with pages dropped or added (cli/kdump_pages.c)
$(O)/kdump-pages: $(O)/tests/kdump_pages_tool.o $(O)/cli/kdump_pages.o $(O)/cli/dump.o $(O)/cli/diskdump.o $(O)/libvtd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DUMPLIBS)
$(O)/tests/kdump_pages_tool.o: CFLAGS_ALL += -Icli
tests: $(O)/kdump-pages

# tests also exercise the CLI's dump readers (cli/dump.c, cli/diskdump.c)
TEST_CLI_OBJS := $(O)/cli/dump.o $(O)/cli/diskdump.o $(O)/cli/image.o $(O)/cli/noteread.o $(O)/cli/kinfo_dwarf.o $(O)/cli/kinfo_btf.o $(O)/cli/kinfo_dump.o \
	$(O)/commands/commands.o $(O)/commands/sink.o
$(O)/tests/%: $(O)/tests/%.o $(O)/tests/check.o $(O)/testdata/libtd.a $(TEST_CLI_OBJS) $(O)/libvtd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DUMPLIBS) -ldw -lbpf

# The mock crashed kernel's vmlinux: DWARF of testdata/mock/mock-kernel.h and
# the locator's symbols, linked at the kernel text address; never run.  Its
# BTF (pahole -J, from the DWARF) goes into the dumps with kallsyms tables.
$(O)/mock-vmlinux: testdata/mock/mock-vmlinux.c testdata/mock/mock-kernel.h testdata/mock/mock-vmlinux.ld
	@mkdir -p $(O)
	$(CC) -g -O0 -fno-pic -mcmodel=kernel -ffreestanding -fno-stack-protector \
		-c -o $(O)/mock-vmlinux.o testdata/mock/mock-vmlinux.c
	ld -static -nostdlib --build-id=sha1 -T testdata/mock/mock-vmlinux.ld -o $@.tmp $(O)/mock-vmlinux.o
	pahole -J $@.tmp
	mv $@.tmp $@

# Synthetic dumps and expected answers, generated at build time (never in git).
gen: $(O)/gen/.stamp
$(O)/gen/.stamp: $(O)/vtd-gen $(O)/mock-vmlinux $(SCENARIOS)
	@mkdir -p $(O)/gen
	$(O)/vtd-gen -k $(O)/mock-vmlinux -o $(O)/gen $(SCENARIOS)
	@touch $@

tests: lib $(O)/vtd $(O)/makedumpfile-vtd $(TEST_BINS) $(if $(wildcard testdata/vtd-gen.c),gen)

deps:
	@scripts/install-deps --check 2>/dev/null || scripts/install-deps

check: deps
	$(MAKE) O=build tests
	$(MAKE) O=build/san SAN=1 OPT=-O1 tests
	$(MAKE) O=build fuzz-build
	@tests/run-tests build build/san

# The main job on the bundled sample: a synthetic crashed machine with a
# legacy unit on segment 0 and a scalable one on segment 1 (a pass-through
# device among them), read from its flattened dump with the mock vmlinux;
# then a dump taken after an in-place takeover: what the takeover wrote, and
# the original table bytes restored into a new dump.
DEMO_DUMP := $(O)/gen/two-units.flat
DEMO_VTD := $(O)/vtd -x $(O)/mock-vmlinux $(DEMO_DUMP)
DEMO_TK := $(O)/gen/takeover-legacy.takeover.kdump
demo: deps
	@$(MAKE) --no-print-directory O=$(O) all gen >/dev/null
	@set -e; for c in units devices domains context "map 0000:00:02.0" \
		"translate 0001:00:02.0 0x10123 --write" "who 0x3000000" check; do \
		echo "\$$ vtd -x $(O)/mock-vmlinux $(DEMO_DUMP) $$c"; \
		$(DEMO_VTD) $$c || test $$? -eq 1; echo; done
	@set -e; mkdir -p $(O)/demo; rm -f $(O)/demo/restored.kdump; \
		for c in "$(DEMO_TK) check" "$(DEMO_TK) marks --reason TAKEOVER_WRITTEN" \
		"restore $(DEMO_TK) $(O)/demo/restored.kdump" "$(O)/demo/restored.kdump marks --reason RESTORED"; do \
		echo "\$$ vtd -x $(O)/mock-vmlinux $$c"; \
		$(O)/vtd -x $(O)/mock-vmlinux $$c || test $$? -eq 1; echo; done

# Performance figures (docs/performance.md): capture overhead of
# makedumpfile-vtd on the real-kernel tier's dumps (make real-dumps first).
bench: all $(O)/bench_walk $(O)/kdump-pages
	$(REAL_PYTHON) scripts/bench.py

$(O)/bench_walk: bench/bench_walk.c $(O)/testdata/libtd.a $(O)/libvtd.a
	$(CC) $(CFLAGS_ALL) -Itestdata -o $@ $^ $(DUMPLIBS)

install: lib $(O)/vtd $(O)/makedumpfile-vtd $(O)/vtd.so $(O)/mock-vmlinux
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/vtd
	install -m 644 $(O)/libvtd.a $(DESTDIR)$(LIBDIR)/libvtd.a
	install -m 755 $(O)/libvtd.so $(DESTDIR)$(LIBDIR)/libvtd.so.$(SOVER)
	ln -sf libvtd.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libvtd.so
	install -m 644 include/vtd/*.h $(DESTDIR)$(INCDIR)/vtd/
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(O)/vtd $(DESTDIR)$(BINDIR)/vtd
	install -d $(DESTDIR)$(CRASH_EXTDIR)
	install -m 644 $(O)/vtd.so $(DESTDIR)$(CRASH_EXTDIR)/vtd.so
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/vtd.1 $(DESTDIR)$(PREFIX)/share/man/man1/vtd.1
	install -m 755 $(O)/makedumpfile-vtd $(DESTDIR)$(BINDIR)/makedumpfile-vtd
	install -d $(DESTDIR)$(PREFIX)/lib/vtdscope/bin $(DESTDIR)$(PREFIX)/share/man/man8
	ln -sf $(BINDIR)/makedumpfile-vtd $(DESTDIR)$(PREFIX)/lib/vtdscope/bin/makedumpfile
	install -m 644 man/makedumpfile-vtd.8 $(DESTDIR)$(PREFIX)/share/man/man8/makedumpfile-vtd.8

clean:
	rm -rf build

-include mk/*.mk
