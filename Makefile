# sandbox-runtime
GO        ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Static: the runtime is re-executed inside containers and must not need
# the host's (or the container's) shared libraries.
# urfave_cli_no_docs: drops cli's man/markdown generator (blackfriday),
# whose package init costs 0.6 ms and 200 KB in every invocation.
GOTAGS    := urfave_cli_no_docs
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -tags '$(GOTAGS)' -ldflags '$(LDFLAGS)'
BUILD     := tests/build

.PHONY: all build test unit integration demo deps clean payload
all: build

build:
	$(GOBUILD) -o sandbox-runtime .

# Test helpers: the static probe copied into test rootfs, the console
# socket receiver.
payload:
	@mkdir -p $(BUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/payload ./tests/cmd/payload
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/recvtty ./tests/cmd/recvtty

deps:
	scripts/deps.sh test

unit:
	$(GO) test -count=1 ./...

integration: build payload
	bats --timing tests/integration

test: deps
	$(MAKE) unit
	$(MAKE) integration

demo:
	scripts/deps.sh demo
	$(MAKE) build payload
	tests/demo.sh

clean:
	rm -rf sandbox-runtime $(BUILD)
