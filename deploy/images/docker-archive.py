#!/usr/bin/env python3
"""Packs a root file system directory into a one-layer image archive in `docker save` format, the format Jib reads
as a base image from `tar://…` and `docker load` reads.

    docker-archive.py ROOTFS OUT.tar TAG KEY=VALUE...     (KEY=VALUE: the image's environment)

Owners become root, times a fixed instant and entries are sorted, so the same files give the same image digest.
"""
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

EPOCH = 1  # Jib's own layers carry this instant too


def layer(rootfs):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory, subdirs, files in os.walk(rootfs):
            subdirs.sort()
            for name in [""] + sorted(files) + [d for d in subdirs if os.path.islink(os.path.join(directory, d))]:
                path = os.path.join(directory, name) if name else directory
                arcname = os.path.relpath(path, rootfs)
                if arcname == ".":
                    continue
                info = tar.gettarinfo(path, arcname)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = EPOCH
                if info.isfile():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buffer.getvalue()


def main(rootfs, out, tag, *env):
    data = layer(rootfs)
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({
        "architecture": arch,
        "os": "linux",
        "created": "1970-01-01T00:00:01Z",
        "config": {"Env": list(env), "User": "65532:65532", "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:01Z", "created_by": "deploy/images/build-base-image.sh"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id[len("sha256:"):] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]).encode()
    with tarfile.open(out + ".partial", "w") as tar:
        for name, content in ((config_name, config), (layer_name, data), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(content))
    os.replace(out + ".partial", out)
    print(f"{out}: {tag}, layer {diff_id[:19]}…, {len(data) / 2**20:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
