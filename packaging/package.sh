#!/bin/sh
# Builds the zonekeeper .deb and .rpm packages for every architecture in
# ARCHS into DIST: `make package` runs it. Inputs (environment):
#   VERSION  the build version (git describe, or VERSION=1.2.3 on make's
#            command line); the package version derives from it
#   ARCHS    Go architectures, default "amd64 arm64"
#   DIST     output directory, default dist
#   NFPM     the nfpm binary; GO the go command
set -eu
cd "$(dirname "$0")/.."

: "${VERSION:?VERSION must be set}"
ARCHS=${ARCHS:-amd64 arm64}
DIST=${DIST:-dist}
NFPM=${NFPM:-nfpm}
GO=${GO:-go}
MAINTAINER=${MAINTAINER:-zonekeeper maintainers <maintainers@users.noreply.h-seed-729ba35c.example>}

PKG_VERSION=$(sh packaging/version.sh "$VERSION")
# Reproducible packages: every timestamp is the commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export PKG_VERSION MAINTAINER SOURCE_DATE_EPOCH

stage=bin/pkg
rm -rf "$stage"
mkdir -p "$stage" "$DIST"

gzip -9n <packaging/zonekeeper.8 >"$stage/zonekeeper.8.gz"

# The changelog's newest entry must be this version: a build between
# releases gets an entry of its own on top of the written history.
top=$(sed -n '1s/^zonekeeper (\([^)]*\)).*/\1/p' packaging/changelog)
{
	if [ "$top" != "$PKG_VERSION" ]; then
		# Dated at the commit, but never before the entry below it.
		last=$(sed -n 's/^ -- .*>  //p' packaging/changelog | head -1)
		last=$(date -u -d "$last" +%s)
		when=$SOURCE_DATE_EPOCH
		[ "$when" -gt "$last" ] || when=$((last + 1))
		when=$(date -u -R -d "@$when")
		printf 'zonekeeper (%s) unstable; urgency=medium\n\n' "$PKG_VERSION"
		printf '  * Built from git %s; not a release.\n\n' "$VERSION"
		printf ' -- %s  %s\n\n' "$MAINTAINER" "$when"
	fi
	cat packaging/changelog
} | gzip -9n >"$stage/changelog.gz"

for arch in $ARCHS; do
	mkdir -p "$stage/linux_$arch"
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.version=$VERSION" \
		-o "$stage/linux_$arch/zonekeeper" ./cmd/zonekeeper
	for format in deb rpm; do
		GOARCH=$arch "$NFPM" package --config nfpm.yaml --packager "$format" --target "$DIST/" >/dev/null
	done
done

for arch in $ARCHS; do
	case $arch in
	amd64) rpmarch=x86_64 ;;
	arm64) rpmarch=aarch64 ;;
	*) rpmarch=$arch ;;
	esac
	for f in "$DIST/zonekeeper_${PKG_VERSION}_$arch.deb" "$DIST/zonekeeper-$PKG_VERSION-1.$rpmarch.rpm"; do
		[ -f "$f" ] || { echo "package.sh: $f was not built" >&2; exit 1; }
		echo "$f"
	done
done
