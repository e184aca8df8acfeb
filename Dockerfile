# syntax=docker/dockerfile:1
# riptide container image: one static binary on distroless, running as non-root.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t riptide .
#   docker run --rm riptide run --brokers kafka:9092 --metrics-addr :9400
#
# Every subcommand is available (ENTRYPOINT is the binary); the compose file and
# the Helm chart in deploy/ pass the subcommand and flags as arguments.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no cgo: gopacket's decoders are pure Go), reproducible paths, no symbols.
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/riptide ./cmd/riptide

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="riptide" \
      org.opencontainers.image.description="Real-time network anomaly detection on Kafka" \
      org.opencontainers.image.source="https://github.com/riptide-nids/riptide"
COPY --from=build /out/riptide /riptide
# distroless' nonroot user (uid/gid 65532); numeric so runAsNonRoot can verify it.
USER 65532:65532
# Prometheus metrics, /healthz and /readyz (--metrics-addr :9400).
EXPOSE 9400
ENTRYPOINT ["/riptide"]
CMD ["--help"]
