# SPDX-License-Identifier: GPL-2.0-or-later
# Thin driver over meson: `make` builds build/vhdkit, `make check` runs every test under ASan+UBSan,
# `make demo` makes a sample disk and runs vhdkit on it, `make deps` installs what is missing (Debian, root).
BUILD      ?= build
TESTBUILD  ?= build-test
MESON      ?= meson

.PHONY: all check demo gen deps fuzz bench clean install

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(TESTBUILD)/build.ninja:
	$(MESON) setup $(TESTBUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

check: $(TESTBUILD)/build.ninja all
	ninja -C $(TESTBUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  VHDKIT_RELEASE_BIN=$(CURDIR)/$(BUILD)/cli/vhdkit \
	  $(MESON) test -C $(TESTBUILD) --print-errorlogs --num-processes 2 $(TESTARGS) || true
	python3 tests/summary.py $(TESTBUILD)/meson-logs/testlog.json

demo: all
	sh tests/demo.sh $(BUILD)/cli/vhdkit

# `make gen GEN="--out disk.vhd --layout gpt --files 2000"`: a Windows-like test disk (tests/gen/vk_gen.c).
gen: all
	$(BUILD)/tests/gen/vk-gen $(or $(GEN),--out disk.vhd)

deps:
	sh scripts/install-deps.sh

fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

bench: all
	sh bench/run.sh $(BUILD)/cli/vhdkit

install: all
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD)
