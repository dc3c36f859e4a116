# Fuzzing (libFuzzer with Debian's clang; ASan + UBSan).  Targets in fuzz/,
# seed corpora from the generated scenario dumps (scripts/fuzz-seeds.py).
#
#   make fuzz FUZZ_SECONDS=N   every target for N seconds (default 60); the
#                              corpora grow in build/fuzz/corpus/, crashes go to
#                              build/fuzz/crashes/TARGET/ (each becomes a
#                              regression input in fuzz/regressions/TARGET/)
#   make fuzz-build            the targets only (make check runs a short pass)

fuzz_saved_default_goal := $(.DEFAULT_GOAL)

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FZ := build/fuzz
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -Iinclude -I. -Icli -Ifuzz $(DUMPCFLAGS)
FUZZ_LIB_SRCS := $(wildcard lib/*.c) cli/dump.c cli/diskdump.c cli/flatfix.c cli/noteread.c cli/kinfo_btf.c \
	cli/kinfo_dump.c cli/kinfo_dwarf.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FZ)/obj/%.o)

.PHONY: fuzz fuzz-build
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_TARGETS:%=$(FZ)/obj/fuzz/%.o)

$(FZ)/obj/%.o: %.c $(wildcard include/vtd/*.h) $(wildcard cli/*.h) fuzz/fuzz_mem.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FZ)/%: $(FZ)/obj/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(DUMPLIBS) -ldw -lelf

fuzz-build: $(addprefix $(FZ)/,$(FUZZ_TARGETS)) $(O)/vtd gen
	$(REAL_PYTHON) scripts/fuzz-seeds.py $(O)/gen $(FZ)/seeds

fuzz: deps fuzz-build
	sh scripts/fuzz-run.sh $(FZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.DEFAULT_GOAL := $(fuzz_saved_default_goal)
