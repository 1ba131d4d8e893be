# The two commands for a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs a master + slave
#               that build a commit to a small local git repository
#   make test   installs what is missing, builds, and runs the test suite
# `make test-sanitize` runs the same suite built with ASan + UBSan.
# `make install PREFIX=/usr/local` installs the programs, docs, examples and
# systemd units; `make deb` builds a Debian package (docs/operations.md).

BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
JOBS ?= 2
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
PREFIX ?= /usr/local
# The programs: what the demo runs and what install and deb ship; those
# targets build only these (no tests, no benchmarks).
PROGRAMS = buildmaster buildslave buildbot

.PHONY: all setup configure build test build-sanitize test-sanitize demo demo-stop bench install deb clean

all: build

setup:
	bash scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	ninja -C $(BUILD) -j $(JOBS)

# A fresh tree gets measured test costs, so ctest starts the long tests
# first (tests/ctest_cost/README).
seed-cost = @test -f $(1)/Testing/Temporary/CTestCostData.txt || \
	  { mkdir -p $(1)/Testing/Temporary && cp tests/ctest_cost/$(2).txt $(1)/Testing/Temporary/CTestCostData.txt; }

test: build
	$(call seed-cost,$(BUILD),normal)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

build-sanitize: setup
	cmake -S . -B $(SANITIZE_BUILD) $(CMAKE_FLAGS) -DBB_SANITIZE=ON -DBB_FUZZ=OFF -DBB_BENCH=OFF
	ninja -C $(SANITIZE_BUILD) -j $(JOBS)

test-sanitize: build-sanitize
	$(call seed-cost,$(SANITIZE_BUILD),sanitize)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SANITIZE_BUILD) --output-on-failure -j $(JOBS) -E '^fuzz\.' -LE package

demo: configure
	ninja -C $(BUILD) -j $(JOBS) $(PROGRAMS)
	BUILD=$(BUILD) bash scripts/demo.sh

demo-stop:
	BUILD=$(BUILD) bash scripts/demo.sh stop

bench: build
	bash bench/run_all.sh $(BUILD)

install: configure
	ninja -C $(BUILD) -j $(JOBS) $(PROGRAMS)
	cmake --install $(BUILD) --prefix $(PREFIX)

deb: configure
	ninja -C $(BUILD) -j $(JOBS) $(PROGRAMS)
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/buildbot-cpp_*.deb

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) demo
