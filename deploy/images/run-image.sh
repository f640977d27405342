#!/usr/bin/env bash
# Runs an image archive (target/jib-image.tar, `docker save` format) as a container would, without a container
# engine: its layers unpacked into a root file system (cached by image digest under $TMPDIR), its entry point run
# chroot'ed as the image's user with the image's environment, /proc, /dev and a fresh tmpfs /tmp mounted in a
# mount namespace of its own, the root file system read-only (as deploy/k8s runs it), and the host's network.
# The process keeps this script's PID (each step execs the next), so a signal sent to it reaches the JVM.
#
#   deploy/images/run-image.sh IMAGE.tar [-e KEY=VALUE]... [-- ARG...]
#
# Needs root (mount namespaces, chroot) and util-linux's unshare. Used by the image tests (load-tests) and to try
# an image here: deploy/images/README.md.
set -euo pipefail

[[ $# -ge 1 && -f $1 ]] || { echo "usage: $0 IMAGE.tar [-e KEY=VALUE]... [-- ARG...]" >&2; exit 2; }
IMAGE=$(readlink -f "$1"); shift
ENV_EXTRA=(); ARGS=()
while (( $# > 0 )); do
  case $1 in
    -e) ENV_EXTRA+=("$2"); shift 2 ;;
    --) shift; ARGS=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
(( EUID == 0 )) || { echo "run-image.sh needs root (mount namespace, chroot)" >&2; exit 1; }

DIGEST=$(sha256sum "$IMAGE" | cut -c1-16)
ROOT="${TMPDIR:-/tmp}/ml-inference-gateway-images/$DIGEST"
if [[ ! -f "$ROOT/.complete" ]]; then
  rm -rf "$ROOT" && mkdir -p "$ROOT/image" "$ROOT/rootfs"
  tar -xf "$IMAGE" -C "$ROOT/image"
  python3 - "$ROOT" <<'PY'
import json, subprocess, sys
root = sys.argv[1]
manifest = json.load(open(f"{root}/image/manifest.json"))[0]
for layer in manifest["Layers"]:
    subprocess.run(["tar", "-xf", f"{root}/image/{layer}", "-C", f"{root}/rootfs", "--same-owner", "-p"], check=True)
config = json.load(open(f"{root}/image/{manifest['Config']}"))["config"]
with open(f"{root}/run.json", "w") as f:
    json.dump({"env": config.get("Env", []), "user": config.get("User") or "0:0",
               "command": (config.get("Entrypoint") or []) + (config.get("Cmd") or []),
               "workdir": config.get("WorkingDir") or "/"}, f)
PY
  mkdir -p "$ROOT/rootfs/proc" "$ROOT/rootfs/dev" "$ROOT/rootfs/tmp" "$ROOT/rootfs/etc"
  touch "$ROOT/rootfs/etc/hosts" "$ROOT/rootfs/etc/resolv.conf" "$ROOT/.complete"
fi

mapfile -t IMAGE_ENV < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["env"]))' "$ROOT/run.json")
mapfile -t COMMAND < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["command"]))' "$ROOT/run.json")
USERSPEC=$(python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["user"]; print(u if ":" in u else u + ":" + u)' "$ROOT/run.json")
R="$ROOT/rootfs"
# In the new mount namespace: the mounts a container runtime makes, then the root made read-only, then the entry
# point with exactly the image's environment plus -e overrides (later wins, as with docker run -e).
exec env -i "${IMAGE_ENV[@]}" "${ENV_EXTRA[@]}" unshare --mount --propagation private /bin/sh -c '
  set -e
  R=$1; USERSPEC=$2; shift 2
  mount --bind "$R" "$R"
  mount -t proc proc "$R/proc"
  mount --rbind /dev "$R/dev"
  mount --bind /etc/hosts "$R/etc/hosts"
  mount --bind /etc/resolv.conf "$R/etc/resolv.conf"
  mount -o remount,bind,ro "$R"
  mount -t tmpfs -o mode=1777,size=512m tmpfs "$R/tmp"
  exec chroot --userspec="$USERSPEC" "$R" "$@"
' run-image "$R" "$USERSPEC" "${COMMAND[@]}" "${ARGS[@]}"
