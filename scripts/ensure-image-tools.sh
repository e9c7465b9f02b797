# Sourced by scripts/test: what building and running the container image
# needs where no registry image can be pulled. Debian's buildah and
# debootstrap (installed once), and a local base image,
# localhost/dueflow-base:bookworm, committed from a minimal Debian root file
# system (made once with debootstrap and kept under ~/.cache/dueflow; the
# image is made again from it when buildah's storage lacks it, in seconds).
# The image tests then build the Dockerfile's runtime-prebuilt stage on that
# base in place of the distroless one. Exports DUEFLOW_TEST_BUILDAH and
# DUEFLOW_TEST_IMAGE_BASE. Fails loudly when it cannot.

image_base="localhost/dueflow-base:bookworm"
image_rootfs="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow/rootfs-bookworm-minbase.tar"
if [ "$(id -u)" = 0 ]; then image_sudo=(); else image_sudo=(sudo); fi

if ! command -v buildah >/dev/null || [ ! -x /usr/sbin/debootstrap ]; then
    echo "installing Debian's buildah and debootstrap (once)" >&2
    { "${image_sudo[@]}" apt-get install -y -qq buildah debootstrap >&2 ||
        { "${image_sudo[@]}" apt-get update -qq >&2 && "${image_sudo[@]}" apt-get install -y -qq buildah debootstrap >&2; }; } ||
        { echo "FATAL: could not install buildah and debootstrap, which the image tests need" >&2; exit 1; }
fi

image_buildah=("${image_sudo[@]}" buildah --storage-driver vfs)
if ! "${image_buildah[@]}" inspect --type image "$image_base" >/dev/null 2>&1; then
    if [ ! -s "$image_rootfs" ]; then
        echo "making a minimal Debian root file system (once) for the image tests" >&2
        image_tmp="$(mktemp -d)"
        { "${image_sudo[@]}" /usr/sbin/debootstrap --variant=minbase bookworm "$image_tmp/root" >/dev/null &&
            mkdir -p "$(dirname "$image_rootfs")" &&
            "${image_sudo[@]}" tar -C "$image_tmp/root" -cf "$image_rootfs.part" . &&
            mv "$image_rootfs.part" "$image_rootfs"; } ||
            { "${image_sudo[@]}" rm -rf "$image_tmp"; echo "FATAL: debootstrap could not make a Debian root file system for the image tests" >&2; exit 1; }
        "${image_sudo[@]}" rm -rf "$image_tmp"
    fi
    echo "committing $image_base from $image_rootfs" >&2
    { image_ctr="$("${image_buildah[@]}" from scratch)" &&
        image_mnt="$("${image_buildah[@]}" mount "$image_ctr")" &&
        "${image_sudo[@]}" tar -C "$image_mnt" -xf "$image_rootfs" &&
        "${image_buildah[@]}" umount "$image_ctr" >/dev/null &&
        "${image_buildah[@]}" commit -q "$image_ctr" "$image_base" >/dev/null &&
        "${image_buildah[@]}" rm "$image_ctr" >/dev/null; } ||
        { [ -n "${image_ctr:-}" ] && "${image_buildah[@]}" rm "$image_ctr" >/dev/null 2>&1
          echo "FATAL: could not commit $image_base with buildah" >&2; exit 1; }
fi

export DUEFLOW_TEST_BUILDAH="$(command -v buildah)"
export DUEFLOW_TEST_IMAGE_BASE="$image_base"
