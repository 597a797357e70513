# systemd/install.mk — `make install` and `make deb`, included by the
# top-level Makefile, which defines GO, VERSION, LDFLAGS and `build`
# (bin/earshot). Defaults here only apply when it does not.
#
#   make install [DESTDIR=/tmp/root] [PREFIX=/usr] [SYSCONFDIR=/etc]
#   make deb                      # bin/earshot_<version>_<arch>.deb for this machine
#   make deb ARCH=arm64           # the Pi's package, cross-built with cgo (arm64.mk)
#   make deb GOARCH=arm64         # cross without cgo: no speech engine, no microphone

GO          ?= go
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     ?= -s -w -X main.version=$(VERSION)

PREFIX       ?= /usr
BINDIR       ?= $(PREFIX)/bin
UNITDIR      ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
DOCDIR       ?= $(PREFIX)/share/doc/earshot
MANDIR       ?= $(PREFIX)/share/man
SYSCONFDIR   ?= /etc
DESTDIR      ?=

INSTALL_ENV = DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' UNITDIR='$(UNITDIR)' \
	SYSUSERSDIR='$(SYSUSERSDIR)' UDEVRULESDIR='$(UDEVRULESDIR)' DOCDIR='$(DOCDIR)' \
	MANDIR='$(MANDIR)' SYSCONFDIR='$(SYSCONFDIR)'

.PHONY: install deb

install: build
	$(INSTALL_ENV) sh systemd/install-tree.sh install bin/earshot

# --- .deb -------------------------------------------------------------------

DEB_HOST_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null)
# Debian's name for the Go architecture asked for (GOARCH=arm builds for
# armhf with GOARM=6, which also runs on the Pi Zero and Pi 1).
deb_arch_of = $(or $(patsubst arm,armhf,$(patsubst 386,i386,$(1))),$(DEB_HOST_ARCH))
DEB_ARCH    := $(call deb_arch_of,$(GOARCH))
# Debian versions must start with a digit and sort by time (version.sh).
DEB_COMMIT_TIME := $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null || echo 0)
DEB_VERSION := $(shell sh systemd/deb/version.sh '$(VERSION)' '$(DEB_COMMIT_TIME)')
DEB_MAINTAINER ?= earshot maintainers <maintainers@earshot.invalid>
DEB_NAME    := earshot_$(DEB_VERSION)_$(DEB_ARCH)
DEB_ROOT    := bin/deb/$(DEB_NAME)
DEB_FILE    := bin/$(DEB_NAME).deb

ifeq ($(DEB_ARCH),$(DEB_HOST_ARCH))
DEB_BIN := bin/earshot
deb_bin_prereq := build
else
# Cross build. cgo (PocketSphinx, PortAudio) needs a cross C toolchain and
# the target's -dev packages: ARCH=arm64 installs both and sets CC
# (arm64.mk). With GOARCH alone the binary is built with CGO_ENABLED=0: it
# runs, but has the pure-Go stubs for speech and audio (`earshot version`
# says so).
DEB_BIN := bin/$(DEB_ARCH)/earshot
deb_bin_prereq := $(DEB_BIN)
DEB_CGO := $(if $(filter-out default,$(origin CC)),$(or $(CGO_ENABLED),1),0)
$(DEB_BIN): FORCE $(deb_cross_deps)
	@if [ "$(DEB_CGO)" = 0 ]; then echo "deb: cross build for $(DEB_ARCH) without a C cross compiler (CC): CGO_ENABLED=0, no PocketSphinx/PortAudio in this package"; fi
	GOOS=linux GOARCH=$(GOARCH) GOARM=$(or $(GOARM),6) CGO_ENABLED=$(DEB_CGO) $(if $(filter 1,$(DEB_CGO)),CC=$(CC)) \
		$(GO) build -trimpath -buildmode=pie -ldflags '$(LDFLAGS)' -o $@ ./cmd/earshot
endif

.PHONY: FORCE
FORCE:

deb: $(deb_bin_prereq) models
	rm -rf $(DEB_ROOT) && mkdir -p $(DEB_ROOT)/DEBIAN
	DESTDIR='$(CURDIR)/$(DEB_ROOT)' BINDIR=/usr/bin UNITDIR=/usr/lib/systemd/system \
		SYSUSERSDIR=/usr/lib/sysusers.d UDEVRULESDIR=/usr/lib/udev/rules.d \
		DOCDIR=/usr/share/doc/earshot MANDIR=/usr/share/man SYSCONFDIR=/etc \
		sh systemd/install-tree.sh deb $(DEB_BIN)
	sh systemd/deb/changelog.sh '$(DEB_VERSION)' '$(DEB_MAINTAINER)' "$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$$(git log -1 --format=%ct 2>/dev/null || echo 0)" | gzip -9n >$(DEB_ROOT)/usr/share/doc/earshot/changelog.gz
	sh systemd/deb/control.sh '$(DEB_VERSION)' '$(DEB_ARCH)' $(DEB_ROOT) '$(DEB_MAINTAINER)' >$(DEB_ROOT)/DEBIAN/control
	printf '/etc/earshot/earshot.yaml\n/etc/earshot/intents.yaml\n' >$(DEB_ROOT)/DEBIAN/conffiles
	install -m 0755 systemd/deb/postinst systemd/deb/prerm systemd/deb/postrm $(DEB_ROOT)/DEBIAN/
	cd $(DEB_ROOT) && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(DEB_FILE)
	@echo "deb: $(DEB_FILE)"
