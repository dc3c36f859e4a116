# Real-kernel tier: Debian's 6.1 kernel under QEMU/TCG with an emulated Intel
# IOMMU, real kdump, dumps checked with crash, drgn and an independent oracle.
# Included by the main Makefile; also usable alone: make -f mk/real.mk check-real
# Documentation: docs/real-harness.md.
#
#   make real-dumps      fetch the kernel, build the initramfs, run/reuse one
#                        legacy and one scalable guest cycle, write ground truth
#   make check-real      scripts/install-deps real, real-dumps, then the checks
#   make real-clean      forget the runs and initramfs (keep the kernel cache)
#   make real-distclean  remove $(REALDIR) entirely (kernel cache included)

# (this fragment must not change the including Makefile's default goal)
real_saved_default_goal := $(.DEFAULT_GOAL)

REALDIR ?= build/real
REAL_MODES ?= legacy scalable legacy-6.12
REAL_KVER ?=
REAL_TIMEOUT ?= 300
REAL_MEM ?= 1024
REAL_CRASHKERNEL ?= 256M
REAL_APPEND ?=
REAL_ATTEMPTS ?= 2
REAL_QMP ?= 0
REAL_PYTHON := /usr/bin/python3

.PHONY: real-deps real-dumps check-real real-clean real-distclean

real-deps:
	scripts/install-deps real

real_dumps_cmd = REAL_MDF_VTD='$(O)/makedumpfile-vtd' REAL_KVER='$(REAL_KVER)' REAL_TIMEOUT='$(REAL_TIMEOUT)' \
	REAL_MEM='$(REAL_MEM)' REAL_CRASHKERNEL='$(REAL_CRASHKERNEL)' \
	REAL_APPEND='$(REAL_APPEND)' REAL_ATTEMPTS='$(REAL_ATTEMPTS)' REAL_QMP='$(REAL_QMP)' \
	sh scripts/real/real-dumps.sh '$(REALDIR)' $(REAL_MODES)

real-dumps: real-deps $(O)/makedumpfile-vtd
	$(real_dumps_cmd)

# The checks run even when a guest run failed: they report it (run-MODE) and
# check whatever exists, so the output always ends with "N passed, N failed".
check-real: real-deps all $(O)/kdump-pages
	$(real_dumps_cmd) || echo "real: building the runs failed; checking what exists" >&2
	$(REAL_PYTHON) tests/real/check_real.py --realdir '$(REALDIR)' $(REAL_MODES)

real-clean:
	rm -rf $(addprefix $(REALDIR)/,$(REAL_MODES)) $(REALDIR)/initramfs-*

real-distclean:
	rm -rf '$(REALDIR)'

.DEFAULT_GOAL := $(real_saved_default_goal)
