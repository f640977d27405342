#!/usr/bin/env bash
# Builds the images' base, a Java 17 runtime from this machine's own Debian/Ubuntu packages, as an image archive
# that Jib reads with tar:// (no registry, no Docker daemon, no root): the packages are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` (as distroless images are made: no shell, no package manager,
# nothing but the JRE and the libraries it and the native model libraries load).
#
#   deploy/images/build-base-image.sh [OUT]   # default $HOME/.cache/ml-inference-gateway/jre17-debian.tar
#
# The archive is rebuilt only when this script or a package version changes (a stamp beside it). The build runs it
# through the Maven profile debian-base-image (root pom.xml), active where apt-get exists; elsewhere the images
# start from eclipse-temurin:17-jre, pulled from a registry.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT=${1:-$HOME/.cache/ml-inference-gateway/jre17-debian.tar}
TAG=ml-inference-gateway/jre17-debian:local
# The JRE, and what its libraries, xgboost4j's (libgomp, libstdc++) and CatBoost's native libraries link against.
PACKAGES=(openjdk-17-jre-headless libc6 libgcc-s1 libstdc++6 libgomp1 zlib1g)
JAVA_HOME=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)

say() { echo "[base-image] $*" >&2; }
for tool in apt-get apt-cache dpkg-deb python3; do
  command -v "$tool" >/dev/null || { say "$tool is missing: this script needs a Debian or Ubuntu machine"; exit 1; }
done

versions() { for p in "${PACKAGES[@]}"; do apt-cache policy "$p" | awk -v p="$p" '/Candidate:/ { print p, $2 }'; done; }
STAMP="$( (cat "${BASH_SOURCE[0]}" "$HERE/docker-archive.py"; versions) | sha256sum | cut -c1-16)"
if [[ -f "$OUT" && "$(cat "$OUT.stamp" 2>/dev/null)" == "$STAMP" ]]; then
  say "up to date: $OUT"
  exit 0
fi
if versions | grep -q '(none)'; then
  say "apt knows no candidate for: $(versions | awk '$2 == "(none)" { print $1 }' | xargs); run apt-get update"
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/debs" "$WORK/rootfs" "$(dirname "$OUT")"
say "fetching ${PACKAGES[*]}"
(cd "$WORK/debs" && apt-get download -q "${PACKAGES[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
for deb in "$WORK"/debs/*.deb; do
  dpkg-deb -x "$deb" "$WORK/rootfs"
done
[[ -x "$WORK/rootfs$JAVA_HOME/bin/java" ]] || { say "no java in the unpacked packages"; exit 1; }

R="$WORK/rootfs"
# What package scripts would have made: the runtime user (65532, "nonroot", as distroless), a world-writable /tmp
# (the JVM unpacks native libraries there; mount it writable when the root file system is read-only), and the
# Java trust store, which ca-certificates-java generates on install: taken from this machine's.
mkdir -p "$R/etc" "$R/tmp" "$R/home/nonroot" "$R/etc/ssl/certs/java"
chmod 1777 "$R/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$R/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$R/etc/group"
if [[ -f /etc/ssl/certs/java/cacerts ]]; then
  cp /etc/ssl/certs/java/cacerts "$R/etc/ssl/certs/java/cacerts"
else
  say "warning: no /etc/ssl/certs/java/cacerts here (apt-get install ca-certificates-java): the image trusts no CA"
fi
# Documentation, manuals and locales are not needed to run.
rm -rf "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/info" "$R/usr/share/lintian" "$R/usr/share/locale"

python3 "$HERE/docker-archive.py" "$R" "$OUT" "$TAG" \
  "PATH=$JAVA_HOME/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  "JAVA_HOME=$JAVA_HOME" "LANG=C.UTF-8"
echo "$STAMP" >"$OUT.stamp"
say "built $OUT from: $(versions | tr '\n' ' ')"
