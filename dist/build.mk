# Installation and operators' files: make install, man pages, make deb.
#
#   make install [DESTDIR=D] [PREFIX=/usr/local]   FHS layout (docs/install.md)
#   make man                                       man pages with scdoc
#   make deb                                       Debian packages in build/deb

VERSION := 0.4.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR_VNFSEC ?= $(PREFIX)/lib/vnfsec
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/vnfsec
MANDIR ?= $(DATADIR)/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
INSTALL ?= install

MAN_SRC := $(wildcard dist/man/*.scd)
MAN_PAGES := $(patsubst dist/man/%.scd,$(O)/man/%,$(MAN_SRC))

.PHONY: man install deb

man: $(MAN_PAGES)

$(O)/man/%: dist/man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

# Operators' configuration stays: an existing agent.conf is never replaced.
install: all man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(LIBDIR_VNFSEC) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR)/monitoring $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d \
		$(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(SYSCONFDIR)/vnfsec
	$(INSTALL) -d -m 0755 $(DESTDIR)$(LOCALSTATEDIR)/lib/vnfsec
	$(INSTALL) -m 0755 $(O)/bin/vnfsec-agent $(O)/bin/vnfsec-server \
		$(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(O)/bin/vnfsecctl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 $(BPF_OBJ) $(DESTDIR)$(LIBDIR_VNFSEC)/
	$(INSTALL) -m 0644 policy/examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 dist/conf/agent.conf dist/conf/server.conf \
		$(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 dist/monitoring/* $(DESTDIR)$(DOCDIR)/monitoring/
	$(INSTALL) -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	for u in dist/systemd/*.service; do \
		sed -e 's|/usr/sbin/|$(SBINDIR)/|' \
		    -e 's|/etc/vnfsec/|$(SYSCONFDIR)/vnfsec/|g' $$u > \
			$(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	$(INSTALL) -m 0644 dist/systemd/vnfsec.sysusers \
		$(DESTDIR)$(PREFIX)/lib/sysusers.d/vnfsec.conf
	$(INSTALL) -m 0644 dist/systemd/vnfsec-agent.tmpfiles \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/vnfsec-agent.conf
	$(INSTALL) -m 0644 dist/completion/vnfsecctl \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/vnfsecctl
	for c in agent server; do \
		test -e $(DESTDIR)$(SYSCONFDIR)/vnfsec/$$c.conf || \
		$(INSTALL) -m 0644 dist/conf/$$c.conf \
			$(DESTDIR)$(SYSCONFDIR)/vnfsec/ || exit 1; \
	done

# Packages are built from a copy of the tracked tree, so the build never
# sees this tree's build/ and dpkg-buildpackage's ../ is build/deb/.
DEB_DIR := $(O)/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/vnfsec-$(VERSION)
	git -C $(SRC) ls-files -co --exclude-standard -z | \
		(cd $(SRC) && xargs -0 tar -cf - --no-recursion) | \
		tar -xf - -C $(DEB_DIR)/vnfsec-$(VERSION)
	cd $(DEB_DIR)/vnfsec-$(VERSION) && \
		dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb
