# Packaging (issue 8): install, dist, man pages, the .deb and the .rpm, and the CI check of all of them.
#
#   make install DESTDIR=... PREFIX=/usr   programs, units, man pages, docs; sample configs only where absent
#   make uninstall                         removes what install put there, except the configuration
#   make dist                              dist/castor-VERSION.tar.gz from the tracked files (working tree)
#   make man-check                         every man page renders without a warning (groff and man)
#   make deb                               dpkg-buildpackage -us -uc -b from the dist tarball, then lintian
#   make rpm                               rpmbuild -bb packaging/rpm/castor.spec from the dist tarball
#   make package-check                     all of the above, then install, exercise and purge the .deb
#
# Package builds run in PKG_BUILD (default build-pkg/), never in build/, and build the programs with
# their own BUILD directory inside the unpacked tarball: they do not race other builds of this tree.
# The version is VERSION's, everywhere: the binaries get it from the Makefile, the man pages at install,
# the rpm through --define; packaging/debian/changelog must agree (checked by `make deb`).

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/castor
SYSCONFDIR  ?= /etc
UNITDIR     ?= /lib/systemd/system
DESTDIR     ?=
PKG_BUILD   ?= build-pkg
DISTDIR     ?= dist
DIST_NAME   := castor-$(VERSION)
DIST_TARBALL := $(DISTDIR)/$(DIST_NAME).tar.gz

MAN_PAGES   := docs/man/castor.8 docs/man/quorumd.8 docs/man/svcmgr.8 docs/man/castor-web.8 docs/man/castor.ini.5 docs/man/castor-service.5
UNITS       := packaging/systemd/castor-quorumd.service packaging/systemd/castor-svcmgr.service \
               packaging/systemd/castor.target packaging/systemd/castor-web.service
SAMPLE_SERVICES := $(wildcard etc/services.d/*.ini)
# Samples that would touch the network or disks stay inactive in services.d (svcmgr loads *.ini only).
INACTIVE_SAMPLES := web.ini director-haproxy.ini director-ldirectord.ini postgresql.ini
PKG_TOOLS   := dpkg-dev debhelper lintian rpm fakeroot man-db groff-base groff
PKG_ENV     := CASTOR_SKIP_DEPS=1

.PHONY: programs install uninstall dist man-check pkg-tools deb rpm package-check deb-install-check

programs: $(PROGRAMS)

install: $(PROGRAMS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	           $(DESTDIR)$(DOCDIR)/examples/services.d
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/castor
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/castor/services.d
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	for f in $(MAN_PAGES); do \
	  sed 's/@VERSION@/$(VERSION)/g' $$f > $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/} && \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/} || exit 1; done
	for f in $(UNITS); do \
	  sed 's|/usr/sbin/|$(SBINDIR)/|g; s|/etc/castor/|$(SYSCONFDIR)/castor/|g' $$f > $(DESTDIR)$(UNITDIR)/$${f##*/} && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; done
	install -m 0644 README.md docs/design.md docs/ondisk-format.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 etc/castor.ini $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(SAMPLE_SERVICES) $(DESTDIR)$(DOCDIR)/examples/services.d/
	@# The configuration is the administrator's: an existing file is never overwritten. Root-only (0600):
	@# service files may carry agent parameters such as passwords, castor.ini may name the cluster's key.
	@conf() { if [ -e "$(DESTDIR)$$2" ]; then echo "  keeping existing $(DESTDIR)$$2"; \
	          else install -m 0600 "$$1" "$(DESTDIR)$$2" && echo "  installed $(DESTDIR)$$2"; fi; }; \
	conf etc/castor.ini $(SYSCONFDIR)/castor/castor.ini; \
	for f in $(SAMPLE_SERVICES); do n=$${f##*/}; \
	  case " $(INACTIVE_SAMPLES) " in *" $$n "*) n=$$n.example;; esac; \
	  conf $$f $(SYSCONFDIR)/castor/services.d/$$n; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,castor quorumd svcmgr)
	rm -f $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "  left $(DESTDIR)$(SYSCONFDIR)/castor in place (configuration)"

# The tracked files as they are in the working tree (a fresh clone gives the same tarball as CI).
dist:
	@mkdir -p $(DISTDIR)
	@git ls-files -z | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' > $(DISTDIR)/.files
	tar --null --files-from=$(DISTDIR)/.files --transform 's,^,$(DIST_NAME)/,' --owner=0 --group=0 \
	    --sort=name --mtime="$$(git log -1 --format=%cI 2>/dev/null || date -u -Iseconds)" -czf $(DIST_TARBALL)
	@rm -f $(DISTDIR)/.files
	@echo "  DIST $(DIST_TARBALL)"

man-check: | pkg-tools
	@fail=0; for f in $(MAN_PAGES); do \
	  w=$$( { groff -ww -man -z $$f; \
	          LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 $$f >/dev/null; } 2>&1); \
	  if [ -n "$$w" ]; then echo "man-check: $$f:"; echo "$$w"; fail=1; else echo "  man-check ok: $$f"; fi; \
	done; exit $$fail

# The packaging tools, on a fresh Debian machine (quiet and quick when present).
pkg-tools: deps
	@missing=""; for p in $(PKG_TOOLS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then echo "pkg-tools: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq >/dev/null && \
	  apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

deb: dist | pkg-tools
	@cv=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	if [ "$$cv" != "$(VERSION)" ]; then \
	  echo "deb: packaging/debian/changelog says $$cv but VERSION says $(VERSION): add a changelog entry" >&2; exit 1; fi
	rm -rf $(PKG_BUILD)/deb && mkdir -p $(PKG_BUILD)/deb
	tar -xzf $(DIST_TARBALL) -C $(PKG_BUILD)/deb
	cp -a $(PKG_BUILD)/deb/$(DIST_NAME)/packaging/debian $(PKG_BUILD)/deb/$(DIST_NAME)/debian
	cd $(PKG_BUILD)/deb/$(DIST_NAME) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(PKG_ENV) dpkg-buildpackage -us -uc -b
	@ls -l $(PKG_BUILD)/deb/*.deb
	@echo "--- lintian (errors fail the build) ---"
	@lintian --display-info --pedantic $(PKG_BUILD)/deb/*.changes > $(PKG_BUILD)/deb/lintian.txt 2>&1; \
	cat $(PKG_BUILD)/deb/lintian.txt; echo "--- lintian: $$(grep -c '^E:' $(PKG_BUILD)/deb/lintian.txt) error(s), $$(grep -c '^W:' $(PKG_BUILD)/deb/lintian.txt) warning(s) ---"; \
	! grep -q '^E:' $(PKG_BUILD)/deb/lintian.txt

rpm: dist | pkg-tools
	rm -rf $(PKG_BUILD)/rpm && mkdir -p $(PKG_BUILD)/rpm/SOURCES
	cp $(DIST_TARBALL) $(PKG_BUILD)/rpm/SOURCES/
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(PKG_ENV) rpmbuild -bb --nodeps --define "_topdir $(abspath $(PKG_BUILD)/rpm)" \
	    --define "castor_version $(VERSION)" packaging/rpm/castor.spec
	@for r in $(PKG_BUILD)/rpm/RPMS/*/*.rpm; do echo "  RPM $$r"; rpm -qp --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' $$r; done

# CI: build both packages, then install the .deb on this machine, use it, purge it and check that
# nothing of it is left. Needs root (dpkg -i); CI runs as root on a fresh Debian 12 machine.
# Everything named *castor* outside /run (where test clusters of this tree live), and /run/castor itself.
PKG_FIND_ROOTS := /etc /usr /lib /var /opt /srv
pkg_find = { find $(PKG_FIND_ROOTS) -xdev \( -path /var/lib/dpkg -o -path /var/cache -o -path /var/log \) -prune \
             -o -iname '*castor*' -print 2>/dev/null; find /run/castor 2>/dev/null; } | LC_ALL=C sort

# Sub-makes run one after the other: the top Makefile builds in parallel, and two package builds at once
# would only fight over the CPUs. (dpkg-buildpackage and rpmbuild above run without the parent's
# jobserver: their make runs the top Makefile again, with its own --jobs.)

package-check:
	@[ "$$(id -u)" = 0 ] || { echo "package-check: must run as root (dpkg -i)" >&2; exit 1; }
	$(MAKE) --no-print-directory deps pkg-tools
	$(MAKE) --no-print-directory man-check
	$(MAKE) --no-print-directory deb
	$(MAKE) --no-print-directory rpm
	$(MAKE) --no-print-directory deb-install-check

deb-install-check:
	@set -e; d=$(PKG_BUILD)/check; rm -rf $$d; mkdir -p $$d; \
	deb=$$(ls $(PKG_BUILD)/deb/castor_$(VERSION)_*.deb); \
	if dpkg-query -W -f='$${Status}' castor 2>/dev/null | grep -q 'ok installed'; then \
	  echo "package-check: castor is already installed: purging it first"; dpkg --purge castor >/dev/null; fi; \
	echo "--- maintainer scripts never start the cluster (enabling is checked after dpkg -i) ---"; \
	dpkg-deb -e $$deb $$d/control; ls $$d/control; \
	if grep -nE 'deb-systemd-invoke +(start|restart|try-restart)|systemctl +(start|restart|try-restart|enable)|invoke-rc.d' \
	     $$d/control/p* ; then echo "package-check: a maintainer script starts or enables a unit (above)" >&2; exit 1; fi; \
	$(pkg_find) > $$d/before.txt; \
	echo "--- dpkg -i $$deb ---"; \
	export DEBIAN_FRONTEND=noninteractive; \
	if ! dpkg -i $$deb; then apt-get update -qq >/dev/null; apt-get install -f -y -qq >/dev/null; fi; \
	dpkg-query -W -f='$${Status}\n' castor | grep -q '^install ok installed$$'; \
	echo "--- dpkg -L castor ---"; dpkg -L castor | tee $$d/dpkg-L.txt; \
	echo "--- conffiles ---"; dpkg-query -W -f='$${Conffiles}\n' castor | sed '/^$$/d'; \
	echo "--- exercise ---"; \
	castor --version; quorumd --version; svcmgr --version; castor-web --version; \
	echo "--- the packaged daemons have no test hooks: asked for one, they refuse ---"; \
	if CASTOR_TEST_BUG=read_block0 quorumd --version; then echo "package-check: quorumd took a test hook" >&2; exit 1; fi; \
	if CASTOR_TEST_UNSAFE_TAKEOVER=1 svcmgr --version; then echo "package-check: svcmgr took a test hook" >&2; exit 1; fi; \
	test "$$(stat -c %a /etc/castor/castor.ini)" = 600; test "$$(stat -c %a /etc/castor/services.d)" = 700; \
	test "$$(castor --version)" = "castor $(VERSION)"; \
	test "$$(quorumd --version)" = "quorumd $(VERSION)"; \
	test "$$(svcmgr --version)" = "svcmgr $(VERSION)"; \
	test "$$(castor-web --version)" = "castor-web $(VERSION)"; \
	castor check /etc/castor/services.d; \
	castor check /usr/share/doc/castor/examples/services.d --nodes alpha,beta; \
	for m in castor quorumd svcmgr castor-web castor.ini castor-service; do man -w $$m; done; \
	if command -v systemd-analyze >/dev/null; then \
	  systemd-analyze verify /lib/systemd/system/castor-quorumd.service /lib/systemd/system/castor-svcmgr.service \
	    /lib/systemd/system/castor.target /lib/systemd/system/castor-web.service; echo "systemd-analyze verify: ok"; fi; \
	for u in castor-quorumd.service castor-svcmgr.service castor.target castor-web.service; do \
	  if ls /etc/systemd/system/*.wants/$$u >/dev/null 2>&1; then \
	    echo "package-check: $$u was enabled by the package" >&2; exit 1; fi; done; \
	echo "--- dpkg --purge castor ---"; dpkg --purge castor; \
	left=""; while IFS= read -r f; do \
	  case "$$f" in /.|/etc|/usr|/lib|/usr/sbin|/usr/share|/usr/share/man|/usr/share/man/man5|/usr/share/man/man8|/usr/share/doc|/lib/systemd|/lib/systemd/system) continue;; esac; \
	  if [ -e "$$f" ] || [ -L "$$f" ]; then left="$$left $$f"; fi; done < $$d/dpkg-L.txt; \
	$(pkg_find) > $$d/after.txt; \
	if [ -n "$$left" ]; then echo "package-check: left behind from dpkg -L:$$left" >&2; exit 1; fi; \
	new=$$(sort $$d/before.txt | comm -13 - $$(sort $$d/after.txt > $$d/after.sorted; echo $$d/after.sorted)); \
	if [ -n "$$new" ]; then echo "$$new"; echo "package-check: files named *castor* left behind (above; one the purge removed that was there before, such as a test's /run/castor, is not)" >&2; exit 1; fi; \
	echo "package-check: $$(grep -vc '^/\.$$' $$d/dpkg-L.txt) paths installed, none left after purge; .deb and .rpm built"
