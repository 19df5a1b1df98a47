# scimforge: a static, non-root image with a health check.
# Needs BuildKit (the default builder since Docker 23) for the RUN --mount caches.
#   docker build --build-arg VERSION=v1.2.3 -t scimforge .
#   docker run -d -p 8080:8080 -v scimforge-data:/data -e SCIMFORGE_TOKEN_FILE=/run/secrets/scimforge-token … scimforge
# See "Run it in production" in README.md. deploy/dockerfile_test.go checks
# this file (static binary, non-root user, health check).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG VERSION=""
# Static (no libc: the final image has none), reproducible paths, the release in "scimforge version".
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${VERSION}" -o /out/scimforge ./app/cmd/scimforge
# The volume's mount point, owned by the runtime user (the final image has no shell to chown it).
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# distroless static: CA certificates, /etc/passwd with "nonroot" (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/scimforge /scimforge
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SCIMFORGE_LISTEN=0.0.0.0:8080 \
    SCIMFORGE_DATABASE_URL=sqlite:///data/scimforge.db
VOLUME /data
EXPOSE 8080
# Exec form: there is no shell. healthcheck reads SCIMFORGE_LISTEN (and
# SCIMFORGE_CONFIG_FILE, SCIMFORGE_TLS_*) as the server does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/scimforge", "healthcheck"]
ENTRYPOINT ["/scimforge"]
CMD ["serve"]
