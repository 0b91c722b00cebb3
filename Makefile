# SPDX-License-Identifier: GPL-2.0-only
#
# ipump: infusion-pump interface card driver, tools and tests.
#
#   make                 build the modules and the tools
#   make KDIR=<dir>      build against another kernel tree or headers
#   make check           install what is missing, run every check and test
#   make demo            boot a VM with the simulated card and run the demo
#   make shell           boot the VM and leave a shell on the console
#   make bench           benchmarks in the VM -> tests/bench/RESULTS.md
#   make trumpet         delivery-accuracy trumpet curves -> Documentation/safety/
#   make fuzz            both fuzzers in the VM (FUZZ_ARGS="--seed N --calls N")
#   make soak            create/fault/remove soak (SOAK_ARGS="--cycles N")
#   make coverage        gcov on the debug kernel -> Documentation/safety/coverage.rst
#   make modules_install / make clean

# Default kernel: the running one if its headers exist, else the newest
# Debian 6.1 generic headers installed.
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),\
	$(lastword $(shell ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null \
		| grep -v -- '-rt-' | sort -V)))
KBUILD_ARGS := CONFIG_IPUMP=m CONFIG_IPUMP_SIM=m CONFIG_IPUMP_SPI=m

all: modules tools

modules:
	@test -n "$(KDIR)" || { echo "no kernel headers: run scripts/install-deps or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_ARGS) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_ARGS) modules_install

tools:
	$(MAKE) -C tools

deps:
	scripts/install-deps

check: deps
	tests/run-check

demo: deps
	scripts/demo

shell: deps
	scripts/demo --shell

# Evidence (issue "Proof"): programs that print figures, run in the VM.
bench: deps
	scripts/bench

trumpet: deps
	scripts/trumpet

fuzz: deps
	$(MAKE) -C tests/fuzz vm-fuzz

soak: deps
	$(MAKE) -C tests/fuzz vm-soak

coverage: deps
	scripts/coverage

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean
	-$(MAKE) -C tests clean
	-$(MAKE) -C tests/fuzz clean
	rm -rf build

.PHONY: all modules modules_install tools deps check demo shell clean bench trumpet \
	fuzz soak coverage
