# systemd/arm64.mk — the Raspberry Pi (arm64) build on an amd64 Debian
# machine, included by the top-level Makefile before install.mk
# (docs/arm64.md).
#
#   make deb ARCH=arm64     # cgo cross build against Debian's arm64 libraries (multiarch)
#   make build-arm64        # bin/arm64/earshot alone
#   make test-arm64         # unit tests, eval and the package, run under qemu
#
# PocketSphinx and PortAudio are C libraries, so the cross build needs
# the cross compiler and the arm64 -dev packages beside the amd64 ones
# (`dpkg --add-architecture arm64`); dpkg-shlibdeps then reads Depends
# from the arm64 libraries' symbols files. qemu-user-static runs the
# arm64 binaries; with the arm64 libc and libraries installed by
# multiarch in /lib/aarch64-linux-gnu, the host's root is their root, so
# no QEMU_LD_PREFIX is needed.

ARM64_TRIPLET  := aarch64-linux-gnu
ARM64_CC       := $(ARM64_TRIPLET)-gcc
ARM64_PKG_LIBDIR := /usr/lib/$(ARM64_TRIPLET)/pkgconfig:/usr/share/pkgconfig
# What the cross build links, as arm64 packages (their Depends bring the
# rest: libpulse-dev, libjack-jackd2-dev, ...), and the cross compiler.
ARM64_PACKAGES := gcc-$(ARM64_TRIPLET) libc6-dev:arm64 \
	libpocketsphinx-dev:arm64 libsphinxbase-dev:arm64 portaudio19-dev:arm64 libasound2-dev:arm64
# What runs arm64 code here: qemu (its binfmt handler lets a test binary
# re-execute itself), and debootstrap for an arm64 Debian root.
QEMU_PACKAGES  := qemu-user-static binfmt-support debootstrap
QEMU_ARM64     := qemu-aarch64-static
ARM64_ENV      := GOOS=linux GOARCH=arm64 CGO_ENABLED=1 CC=$(ARM64_CC) PKG_CONFIG_LIBDIR=$(ARM64_PKG_LIBDIR)

DEB_HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null)

# ARCH names a Debian architecture. Only arm64 has a cgo cross build;
# the machine's own architecture is the native build.
ifneq ($(filter-out $(DEB_HOST_ARCH),$(ARCH)),)
ifeq ($(ARCH),arm64)
GOARCH := arm64
CC     := $(ARM64_CC)
CGO_ENABLED := 1
export PKG_CONFIG_LIBDIR := $(ARM64_PKG_LIBDIR)
deb_cross_deps := deps-arm64
else
$(error ARCH=$(ARCH): the cgo cross build is made for ARCH=arm64 only (docs/arm64.md); for another architecture, GOARCH alone builds without cgo, or build on the device)
endif
endif

.PHONY: deps-arm64 deps-qemu build-arm64 test-arm64 unit-arm64

# Adds the architecture once, then installs only what is missing (one
# apt-get update), like `deps`.
deps-arm64: deps
	@dpkg --print-foreign-architectures | grep -qx arm64 || { echo "==> dpkg --add-architecture arm64"; $(SUDO) dpkg --add-architecture arm64; }
	$(call apt_ensure,$(ARM64_PACKAGES))

# binfmt_misc is mounted and qemu-aarch64 enabled so that arm64 programs
# started by arm64 programs (a test re-executing itself, dpkg's
# maintainer scripts in the arm64 root) run too.
deps-qemu: deps
	$(call apt_ensure,$(QEMU_PACKAGES))
	@if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then $(SUDO) mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; fi
	@grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || $(SUDO) update-binfmts --enable qemu-aarch64

build-arm64: deps-arm64 models
	$(ARM64_ENV) $(GO) build -trimpath -buildmode=pie -ldflags '$(LDFLAGS)' -o bin/arm64/earshot ./cmd/earshot

# The pure-Go packages whose code differs by architecture or that the Pi
# runs all the time (audio/embedding has NEON kernels and a digest test
# that must match amd64's to the bit), the store, and PocketSphinx through
# cgo. Not audio/wakeword/train: training a head is minutes of CPU even
# natively. No -race: the race detector does not run under qemu.
ARM64_UNIT_PURE := ./audio/embedding/... ./audio/wakeword ./audio/intents/... ./audio/vad ./audio/preroll ./retention/...
ARM64_UNIT_CGO  := ./audio/sphinx/...
unit-arm64: deps-arm64 deps-qemu models
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) test -count=1 -timeout 30m -exec $(QEMU_ARM64) $(ARM64_UNIT_PURE)
	$(ARM64_ENV) $(GO) test -count=1 -timeout 30m -exec $(QEMU_ARM64) $(ARM64_UNIT_CGO)

# Instruction counts per audio second on amd64 and arm64, and what they
# suggest for a Pi 4 / Pi 5 core (audio/eval/pi-figures.sh). Not a test:
# a measurement, minutes long. qemu-user (not -static) loads TCG plugins.
FIGURES_PACKAGES := qemu-user valgrind
.PHONY: deps-figures pi-figures
deps-figures: deps-arm64 deps-qemu
	$(call apt_ensure,$(FIGURES_PACKAGES))

pi-figures: deps-figures build build-arm64
	bash audio/eval/pi-figures.sh
