# dblink with a Go core: the C shim (csrc/, PGXS) and the Go core (cmd/, c-shared).
#
#   make                    build dblink.so, dblink_go.so and the extension script
#   make install            install into the server named by PG_CONFIG (honors DESTDIR)
#   make test               every test, on throwaway clusters (see test/run.sh)
#   make installcheck       the pg_regress suite against a running server that
#                           has this dblink installed (PGHOST, PGPORT, PGUSER)

MODULE_big = dblink
OBJS = \
	csrc/gocore.o \
	csrc/wait.o \
	csrc/extfd.o \
	csrc/report.o \
	csrc/connection.o \
	csrc/query.o \
	csrc/rowstore.o \
	csrc/direct.o \
	csrc/cursor.o \
	csrc/async.o \
	csrc/foreign.o \
	csrc/builders.o \
	csrc/debug.o \
	csrc/settings.o

EXTENSION = dblink
DATA = sql/dblink--1.0--1.1.sql sql/dblink--1.1--1.2.sql sql/dblink--1.2--1.3.sql
DATA_built = dblink--1.2.sql
EXTRA_CLEAN = dblink_go.so dblink_go.h \
	test/regress/results test/regress/regression.diffs test/regress/regression.out

# `make installcheck`: the pg_regress suite; test/regress/tests is the one
# list of tests (comments and blank lines dropped).
REGRESS = $(shell sed -e 's/[#].*//' $(srcdir)/test/regress/tests)
REGRESS_OPTS = --inputdir=$(srcdir)/test/regress --outputdir=test/regress

# The install script is assembled from one fragment per area of the API.
SQL_PARTS = 00-header 10-connections 20-queries 30-cursors 40-async 50-builders 60-fdw

PG_CPPFLAGS = -I$(srcdir)/csrc
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-clobbered -Werror
SHLIB_LINK = -ldl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: every object depends on the shared
# headers, so a changed ABI struct can never meet a stale object.
$(OBJS): csrc/dblink.h csrc/dblink_go_abi.h csrc/foreign.h csrc/compat.h

dblink--1.2.sql: $(foreach p,$(SQL_PARTS),sql/1.2/$(p).sql)
	cat $^ > $@

# The Go core.  Async preemption is off at link time so the runtime leaves
# PostgreSQL's SIGURG alone (see docs/DESIGN.md, "Signals").
GO ?= go
GO_SOURCES = go.mod go.sum $(shell find cmd internal -name '*.go' ! -name '*_test.go' -o -name '*.c') csrc/dblink_go_abi.h

all: dblink_go.so

dblink_go.so: $(GO_SOURCES)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath \
		-ldflags=-X=runtime.godebugDefault=asyncpreemptoff=1 \
		-o $@ ./cmd/dblink_go

install: install-go

install-go: dblink_go.so
	$(INSTALL_SHLIB) dblink_go.so '$(DESTDIR)$(pkglibdir)/dblink_go.so'

uninstall: uninstall-go

uninstall-go:
	rm -f '$(DESTDIR)$(pkglibdir)/dblink_go.so'

test:
	bash test/run.sh

.PHONY: install-go uninstall-go test
