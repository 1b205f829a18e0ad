# fuzz: libFuzzer harnesses (every fuzz/fuzz_<name>.c), their seed corpora,
# campaigns, a smoke run in `make check`, corpus coverage of codec/ and
# broker/, and the OSS-Fuzz / ClusterFuzzLite build (fuzz/build.sh).
#
#   make fuzz                 every harness for FUZZ_SECONDS (60) each; JOBS=N: fork mode
#   make fuzz FUZZ_HARNESSES=decode FUZZ_SECONDS=600
#   make fuzz-corpus          (re)writes the seeds into fuzz/corpus/<harness>/
#   make fuzz-coverage        line coverage of codec/ (and broker/) reached by fuzz/corpus (llvm-cov)
#   make fuzz-ossfuzz         runs fuzz/build.sh as OSS-Fuzz would, into build/fuzz/oss/out
#   make check-fuzz           a smoke: every seed and regression input, then FUZZ_SMOKE_RUNS (4000)
#                             inputs per harness from a fixed seed; fails on crash, leak, timeout
#
# A harness of another part joins by its file alone: fuzz/fuzz_<name>.c, plus, in that
# part's fragment, the objects it links beyond the codec as prerequisites of
# $(BUILD)/fuzz/fuzz_<name> (and extra libraries as `$(BUILD)/fuzz/fuzz_<name>: FUZZ_LDFLAGS += -l...`);
# seeds in fuzz/seeds/<name>/ or FUZZ_SEED_FILES += <name>:<file>.
#
# The harnesses need clang (libFuzzer); everything else in the project builds
# with gcc too, so they are not part of `make` (ALL_TARGETS).

FUZZ_CC            ?= clang-14
FUZZ_LINK          ?= $(FUZZ_CC)
FUZZ_PROFDATA      ?= llvm-profdata-14
FUZZ_COV           ?= llvm-cov-14
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_RUNS    ?= 4000
JOBS               ?= 1
DEPS_FUZZ          ?= clang-14 libclang-rt-14-dev llvm-14 zip
DEPS_CHECK         += $(DEPS_FUZZ)

FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_COMMON    := fuzz/fuzz_util.c fuzz/fuzz_text.c
FUZZ_WARN      ?= $(WARN)
FUZZ_SANITIZE  := -fsanitize=address,undefined -fno-sanitize-recover=all
# -O2 (OSS-Fuzz uses -O1; -O2 runs about 15% more inputs per second here), frame pointers
# for stacks; fuzzer-no-link instruments for coverage, only codec/ and broker/ (the allowlist).
# fuzz/build.sh replaces FUZZ_CFLAGS and FUZZ_ENGINE with OSS-Fuzz's $CFLAGS and engine.
FUZZ_CFLAGS    ?= $(STD) $(FUZZ_WARN) $(INCLUDES) -O2 -g -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
                  -fsanitize=fuzzer-no-link -fsanitize-coverage-allowlist=fuzz/coverage.allowlist
FUZZ_ENGINE    ?= -fsanitize=fuzzer,address,undefined
FUZZ_LDFLAGS   := $(FUZZ_ENGINE)
# Coverage builds: source-based coverage, no sanitizers (faster, and the counts are what matter).
FUZZCOV_CFLAGS := $(STD) $(WARN) $(INCLUDES) -O0 -g -fprofile-instr-generate -fcoverage-mapping \
                  -fsanitize=fuzzer-no-link

# Harnesses: this part's first, then every other fuzz/fuzz_<name>.c. Those of the broker
# part need it (BROKER_CORE_SRCS comes from broker/broker.mk).
FUZZ_OWN       := decode stream roundtrip encode broker
FUZZ_FOUND     := $(filter-out util text,$(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_ALL       := $(filter $(FUZZ_FOUND),$(FUZZ_OWN)) $(filter-out $(FUZZ_OWN),$(FUZZ_FOUND))
FUZZ_OF_BROKER := broker config acl persist passwd
FUZZ_HARNESSES ?= $(if $(BROKER_CORE_SRCS),$(FUZZ_ALL),$(filter-out $(FUZZ_OF_BROKER),$(FUZZ_ALL)))
# Coverage of codec/ and broker/ comes from this part's harnesses.
FUZZ_COV_HARNESSES ?= $(filter $(FUZZ_OWN),$(FUZZ_HARNESSES))
FUZZ_LIB_SRCS  := $(FUZZ_COMMON) $(CODEC_SRCS)
FUZZ_BINS      := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_HARNESSES))
FUZZCOV_BINS   := $(patsubst %,$(FUZZ_DIR)/cov/fuzz_%,$(FUZZ_COV_HARNESSES))
# Seeds from elsewhere in the tree, as harness:file.
FUZZ_SEED_FILES += $(patsubst %,config:%,$(wildcard broker/*.conf.example))

.PHONY: deps-fuzz fuzz fuzz-build fuzz-corpus fuzz-coverage fuzz-ossfuzz fuzz-vars check-fuzz

deps-fuzz:
	@scripts/ensure-deps.sh $(DEPS_FUZZ)

$(BUILD)/obj/fuzz/%.o: %.c fuzz/fuzz.mk fuzz/coverage.allowlist | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/fuzzcov/%.o: %.c fuzz/fuzz.mk | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZCOV_CFLAGS) -MMD -MP -c $< -o $@

# Harness objects are reached only through the pattern rules below: keep them.
.PRECIOUS: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzzcov/%.o

# Each harness links the codec and the shared checks; other parts add what else it needs.
$(FUZZ_DIR)/fuzz_%: $(BUILD)/obj/fuzz/fuzz/fuzz_%.o $(call objs,fuzz,$(FUZZ_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) -o $@ $^ $(FUZZ_LDFLAGS)
$(FUZZ_DIR)/fuzz_broker: $(call objs,fuzz,$(BROKER_CORE_SRCS) broker/src/broker_driver.c)

$(FUZZ_DIR)/cov/fuzz_%: $(BUILD)/obj/fuzzcov/fuzz/fuzz_%.o $(call objs,fuzzcov,$(FUZZ_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer -fprofile-instr-generate -o $@ $^
$(FUZZ_DIR)/cov/fuzz_broker: $(call objs,fuzzcov,$(BROKER_CORE_SRCS) broker/src/broker_driver.c)

# The seed generator is an ordinary (gcc, ASan) program linked with the codec.
$(FUZZ_DIR)/gen-corpus: $(call objs,asan,fuzz/gen_corpus.c) $(ALIB)/libmqttcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_asan) -o $@ $^

fuzz-build: $(FUZZ_BINS)

# Seeds are added to fuzz/corpus/<harness>/ (gitignored), next to what campaigns found.
fuzz-corpus: $(FUZZ_DIR)/gen-corpus
	@$(FUZZ_DIR)/gen-corpus fuzz/corpus $(CODEC_TESTS)
	@fuzz/add-seeds.sh fuzz/corpus $(FUZZ_SEED_FILES)

fuzz: deps-fuzz fuzz-build fuzz-corpus
	@FUZZ_BIN_DIR=$(FUZZ_DIR) fuzz/run.sh --seconds $(FUZZ_SECONDS) --jobs $(JOBS) $(FUZZ_HARNESSES)

check-fuzz: deps-fuzz fuzz-build fuzz-corpus
	@scripts/run-suite.sh fuzz env FUZZ_BIN_DIR=$(FUZZ_DIR) \
	    fuzz/run.sh --smoke --runs $(FUZZ_SMOKE_RUNS) $(FUZZ_HARNESSES)

fuzz-coverage: deps-fuzz $(FUZZCOV_BINS) fuzz-corpus
	@FUZZ_BIN_DIR=$(FUZZ_DIR) FUZZ_PROFDATA=$(FUZZ_PROFDATA) FUZZ_COV=$(FUZZ_COV) \
	    fuzz/coverage.sh $(FUZZ_COV_HARNESSES)

# What fuzz/build.sh needs to know (one NAME=value per line).
fuzz-vars:
	@echo "FUZZ_HARNESSES=$(FUZZ_HARNESSES)"
	@echo "FUZZ_SEED_FILES=$(FUZZ_SEED_FILES)"

# The OSS-Fuzz / ClusterFuzzLite build, run locally with the variables they set.
fuzz-ossfuzz: deps-fuzz
	@rm -rf $(FUZZ_DIR)/oss && mkdir -p $(FUZZ_DIR)/oss/out $(FUZZ_DIR)/oss/work
	CC=$(FUZZ_CC) CXX=$(subst clang,clang++,$(FUZZ_CC)) \
	CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
	CXXFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
	LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$(CURDIR)/$(FUZZ_DIR)/oss/out WORK=$(CURDIR)/$(FUZZ_DIR)/oss/work \
	SRC=$(CURDIR) fuzz/build.sh
	@ls -l $(FUZZ_DIR)/oss/out

CHECK_SUITES += check-fuzz
-include fuzz/live/live.mk
