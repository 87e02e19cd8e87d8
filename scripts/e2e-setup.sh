#!/usr/bin/env bash
# e2e-setup.sh - prepare daemonless image builds for dockfix's end-to-end tests.
#
# The e2e tier proves that dockfix's rewrites keep images building and behaving the same, by
# building them for real. Machines running it have no Docker daemon and no container registry
# (only PyPI, Debian's archive and npm), so this script:
#   1. installs buildah, podman, runc and debootstrap with apt-get (only if missing);
#   2. writes private container configs under the state dir (nothing under /etc changes);
#   3. makes local stand-ins for python:3.11-slim and python:3.11 with debootstrap, caching
#      each root filesystem as a tarball in the state dir so the next run takes seconds;
#   4. writes $STATE/env.sh and prints its export lines on stdout (all logs go to stderr).
# Every step is skipped when its result already exists, so running it again is cheap.
#
# Usage: scripts/e2e-setup.sh [setup|env|clean]
#   setup (default)  do everything above, print the export lines
#   env              print the export lines of an existing setup only
#   clean            remove this setup's containers, images and the whole state dir
#
# Settings (environment):
#   DOCKFIX_E2E_HOME     state dir (default: $HOME/.cache/dockfix-e2e)
#   DOCKFIX_E2E_MIRROR   Debian mirror (default: http://deb.debian.org/debian)
#   DOCKFIX_E2E_STORAGE_DRIVER  overlay (default) or vfs (if the state dir is on overlayfs)
set -euo pipefail

STATE=${DOCKFIX_E2E_HOME:-$HOME/.cache/dockfix-e2e}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
[ -n "${STATE%/}" ] || { echo "[e2e-setup] ERROR: refusing / as state dir" >&2; exit 1; }
MIRROR=${DOCKFIX_E2E_MIRROR:-http://deb.debian.org/debian}
DRIVER=${DOCKFIX_E2E_STORAGE_DRIVER:-overlay}
SUITE=bookworm
# Bump when the way a rootfs is made changes: the cached tarballs then no longer match.
RECIPE_VERSION=5

SLIM_PACKAGES=python3,python3-pip,python3-venv,ca-certificates
# The official full image (buildpack-deps) brings a C toolchain and common -dev headers.
FULL_PACKAGES=(build-essential gcc python3-dev pkg-config libpq-dev libffi-dev libjpeg-dev
  zlib1g-dev libxml2-dev libssl-dev curl git)
SLIM_NAMES=(localhost/python:3.11-slim docker.io/library/python:3.11-slim)
FULL_NAMES=(localhost/python:3.11 docker.io/library/python:3.11)
# Other names of the same images (tags only, no extra storage): an untagged `FROM python`
# means python:latest, and dockfix's slim rewrite of it is python:slim.
SLIM_ALIASES=(localhost/python:slim docker.io/library/python:slim
  localhost/python:3-slim docker.io/library/python:3-slim)
FULL_ALIASES=(localhost/python:latest docker.io/library/python:latest
  localhost/python:3 docker.io/library/python:3)
# Bump when what make_image adds on top of a rootfs tarball changes (not the tarball).
IMAGE_RECIPE=2
IMAGE_ENV=(
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  LANG=C.UTF-8
  PYTHON_VERSION=3.11.2
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt
  REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
)

log() { printf '[e2e-setup] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_us() { local t=${EPOCHREALTIME/./}; printf '%s' "$t"; }
# elapsed START_US -> "12.3s"
elapsed() {
  local d=$(($(now_us) - $1))
  printf '%d.%ds' $((d / 1000000)) $((d / 100000 % 10))
}
T_START=$(now_us)
TIMINGS=()
timed() { TIMINGS+=("$1=$2"); log "$1 took $2"; }

# unmount_below DIR: unmount whatever an interrupted debootstrap or chroot left mounted
# there (proc, sys, a bound /dev), deepest first, so that rm -rf can never reach the host.
unmount_below() {
  local dir m
  [ -d "$1" ] || return 0
  dir=$(realpath "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r \
    | while read -r m; do umount -l "$m" || true; done
}

env_lines() {
  cat <<EOF
export CONTAINERS_STORAGE_CONF=$STATE/conf/storage.conf
export CONTAINERS_CONF=$STATE/conf/containers.conf
export CONTAINERS_REGISTRIES_CONF=$STATE/conf/registries.conf
export BUILDAH_ISOLATION=chroot
export TMPDIR=$STATE/tmp
export DOCKFIX_E2E_HOME=$STATE
EOF
}

cmd=${1:-setup}
case $cmd in
  setup | env | clean) ;;
  -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
  *) die "unknown command '$cmd' (use setup, env or clean)" ;;
esac

if [ "$cmd" = env ]; then
  [ -f "$STATE/env.sh" ] || die "no setup in $STATE; run '$0 setup' first"
  cat "$STATE/env.sh"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, debootstrap and rootful buildah need it)"

if [ "$cmd" = clean ]; then
  if [ -f "$STATE/env.sh" ] && command -v podman >/dev/null; then
    # shellcheck disable=SC1091
    . "$STATE/env.sh"
    podman rm --all --force --time 0 >/dev/null 2>&1 || true
    buildah rm --all >/dev/null 2>&1 || true
    buildah rmi --all --force >/dev/null 2>&1 || true
  fi
  unmount_below "$STATE"
  rm -rf --one-file-system "$STATE"
  log "removed $STATE"
  exit 0
fi

mkdir -p "$STATE"/{conf,cache,tmp,work,run}
# One setup at a time (two pytest sessions could start together).
exec 9>"$STATE/.lock"
flock -w 1800 9 || die "another e2e-setup holds $STATE/.lock"

# ---------------------------------------------------------------- 1. packages
need=()
for b in buildah podman runc debootstrap; do command -v "$b" >/dev/null || need+=("$b"); done
if [ ${#need[@]} -gt 0 ]; then
  t=$(now_us)
  log "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -q buildah podman runc debootstrap >"$STATE/apt.log" 2>&1 \
    || { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed (log: $STATE/apt.log)"; }
  timed packages "$(elapsed "$t")"
fi

# ---------------------------------------------------------------- 2. private configs
# The VM lacks CAP_SYS_RESOURCE: podman's default rlimits cannot be set ("setrlimit
# RLIMIT_NOFILE: Operation not permitted"), so use values within the current hard limits.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nofile" -gt 1048576 ] && nofile=1048576
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] && nproc=32768
[ "$nproc" -gt 32768 ] && nproc=32768

cat >"$STATE/conf/storage.conf" <<EOF
[storage]
driver = "$DRIVER"
graphroot = "$STATE/storage"
runroot = "$STATE/run/storage"
EOF
cat >"$STATE/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# crun 1.8 (bookworm) refuses hybrid cgroup v1/v2 hosts; runc does not.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/run/events.log"
tmp_dir = "$STATE/run/libpod"
EOF
cat >"$STATE/conf/registries.conf" <<'EOF'
# No registry is reachable: short names resolve to docker.io names that exist locally
# (builds use --pull=never).
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
env_lines >"$STATE/env.sh"
# shellcheck disable=SC1091
. "$STATE/env.sh"

# ---------------------------------------------------------------- 3. root filesystems
recipe_hash() {
  printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$SLIM_PACKAGES" "$@" | sha256sum | cut -c1-12
}
SLIM_KEY=$(recipe_hash)
FULL_KEY=$(recipe_hash "${FULL_PACKAGES[@]}")
SLIM_TAR=$STATE/cache/python-3.11-slim-$SLIM_KEY.tar
FULL_TAR=$STATE/cache/python-3.11-$FULL_KEY.tar
ROOTFS=$STATE/work/rootfs

# chroot without our TMPDIR (it does not exist inside the rootfs).
in_root() { env -u TMPDIR DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" "$@"; }

remove_rootfs() {
  unmount_below "$ROOTFS"
  rm -rf --one-file-system "$ROOTFS"
}

mounted_proc=
cleanup() {
  if [ -n "$mounted_proc" ]; then unmount_below "$ROOTFS"; fi
}
trap cleanup EXIT

with_network() {
  # apt inside the chroot needs DNS; the image itself must not keep the host's resolver.
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  mount -t proc proc "$ROOTFS/proc"
  mounted_proc=1
}
without_network() {
  umount "$ROOTFS/proc"
  mounted_proc=
  : >"$ROOTFS/etc/resolv.conf"
}

clean_rootfs() {
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* \
    "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
}

# save_tar TARBALL: the rootfs as TARBALL.part (renamed once complete, so an interrupted run
# never leaves a tarball that looks finished).
save_tar() {
  tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$ROOTFS" \
    -cf "$1.part" .
}

# Both images come from one debootstrap: the slim rootfs is saved, then the toolchain is
# installed on top for the full one.
# bootstrap_rootfs SUITE: a minbase rootfs of SUITE with Python, made to behave like the
# official slim image (below), cleaned, in $ROOTFS.
bootstrap_rootfs() {
  local suite=$1 t
  remove_rootfs
  t=$(now_us)
  log "debootstrap $suite minbase + $SLIM_PACKAGES (about a minute)"
  env -u TMPDIR debootstrap --variant=minbase --include="$SLIM_PACKAGES" \
    "$suite" "$ROOTFS" "$MIRROR" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed ($STATE/debootstrap.log)"; }
  timed "debootstrap $suite" "$(elapsed "$t")"
  # Everything below writes into the rootfs: refuse to go on with a path that is not one.
  [ -f "$ROOTFS/etc/debian_version" ] || die "$ROOTFS is not a Debian rootfs"

  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$MIRROR" "$suite" "$MIRROR" "$suite" "${MIRROR%/debian}/debian-security" "$suite" \
    >"$ROOTFS/etc/apt/sources.list"
  # HTTPS leaves through a re-signing proxy: trust the host's extra CAs in every image.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
  fi
  in_root update-ca-certificates >/dev/null 2>&1
  # Behave like the official image: pip may install as root (no PEP 668 marker), and
  # "python" exists. The dpkg exclude keeps the marker away when a Dockerfile's apt-get
  # upgrades libpython3.11-stdlib (the official image's Python is not Debian's).
  rm -f "$ROOTFS"/usr/lib/python3.*/EXTERNALLY-MANAGED
  echo 'path-exclude=/usr/lib/python3*/EXTERNALLY-MANAGED' \
    >"$ROOTFS/etc/dpkg/dpkg.cfg.d/dockfix-e2e-no-pep668"
  ln -sf python3 "$ROOTFS/usr/bin/python"
  echo localhost >"$ROOTFS/etc/hostname"
  clean_rootfs
}

# add_python_headers TARBALL.part: append the C headers of Debian's Python, installed in
# $ROOTFS by its -dev package, to the slim tarball being written.
add_python_headers() {
  local headers
  mapfile -t headers < <(cd "$ROOTFS" && find ./usr/include -maxdepth 2 -type d -name 'python3*')
  [ ${#headers[@]} -gt 0 ] || die "no Python headers in the rootfs"
  tar --numeric-owner -C "$ROOTFS" -rf "$1" "${headers[@]}"
}

make_rootfs() {
  local t
  bootstrap_rootfs "$SUITE"
  t=$(now_us)
  save_tar "$SLIM_TAR"

  log "apt-get install ${FULL_PACKAGES[*]} (stand-in for the full python:3.11)"
  with_network
  in_root apt-get update -qq >/dev/null
  # force-unsafe-io: no fsync per unpacked file; a crash here only costs a rerun.
  in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
    "${FULL_PACKAGES[@]}" \
    >"$STATE/full-apt.log" 2>&1 \
    || { tail -20 "$STATE/full-apt.log" >&2; die "apt-get in the full rootfs failed"; }
  without_network
  clean_rootfs
  save_tar "$FULL_TAR"

  # The official slim image has Python's C headers (its Python is built from source into
  # /usr/local) but no compiler: "apt-get install gcc" then "pip install" of an sdist works
  # there. Give the slim stand-in the headers only (python3-dev's, from the full rootfs).
  add_python_headers "$SLIM_TAR.part"
  mv "$SLIM_TAR.part" "$SLIM_TAR"
  mv "$FULL_TAR.part" "$FULL_TAR"
  timed "rootfs finish (toolchain, tarballs)" "$(elapsed "$t")"
}

if [ ! -f "$SLIM_TAR" ] || [ ! -f "$FULL_TAR" ]; then
  # Tarballs of older recipes (and half-written ones) are useless now.
  find "$STATE/cache" -name 'python-3.11*.tar*' ! -name "$(basename "$SLIM_TAR")" \
    ! -name "$(basename "$FULL_TAR")" -delete
  make_rootfs
  remove_rootfs
fi

# An older release, for apps that pin one: python:3.9-slim-bullseye (Debian's Python 3.9).
# Slim only: such apps install their compilers with apt-get. DOCKFIX_E2E_OLD_RELEASE=0 skips
# it (about 2 minutes and 250 MB the first time).
WANT_OLD=${DOCKFIX_E2E_OLD_RELEASE:-1}
OLD_SUITE=bullseye
OLD_PYTHON=3.9.2
OLD_SLIM_NAMES=(localhost/python:3.9-slim-bullseye docker.io/library/python:3.9-slim-bullseye)
OLD_KEY=$(printf '%s\n' "$RECIPE_VERSION" "$OLD_SUITE" "$SLIM_PACKAGES" libpython3-dev \
  | sha256sum | cut -c1-12)
OLD_TAR=$STATE/cache/python-3.9-slim-bullseye-$OLD_KEY.tar

make_old_rootfs() {
  local t
  bootstrap_rootfs "$OLD_SUITE"
  t=$(now_us)
  save_tar "$OLD_TAR"
  with_network
  in_root apt-get update -qq >/dev/null
  in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
    libpython3-dev >"$STATE/old-apt.log" 2>&1 \
    || { tail -20 "$STATE/old-apt.log" >&2; die "apt-get in the $OLD_SUITE rootfs failed"; }
  without_network
  add_python_headers "$OLD_TAR.part"
  mv "$OLD_TAR.part" "$OLD_TAR"
  timed "$OLD_SUITE rootfs finish (headers, tarball)" "$(elapsed "$t")"
}

if [ "$WANT_OLD" != 0 ] && [ ! -f "$OLD_TAR" ]; then
  find "$STATE/cache" -name 'python-3.9-slim-bullseye-*.tar*' ! -name "$(basename "$OLD_TAR")" \
    -delete
  make_old_rootfs
  remove_rootfs
fi

# ---------------------------------------------------------------- 4. images
# image_current NAME KEY: the image exists and was made from this recipe. The recipe is kept
# in a state file, not in a label: labels would leak into every image built FROM it.
image_current() {
  local id want
  id=$(podman image inspect --format '{{.Id}}' "$1" 2>/dev/null) || return 1
  want=$(cat "$STATE/cache/$(basename "$1").image" 2>/dev/null) || return 1
  [ "$want" = "$2 $id" ]
}

# apt_config ROOT slim|full: the apt and dpkg settings of Debian's official container images
# (debuerreotype), which python:* inherits. Without docker-clean every `apt-get update` in a
# build leaves ~77 MB of /var/cache/apt/*.bin in its layer, which the real images never
# keep, and image sizes would be wrong. The slim variant also leaves docs and man pages out.
apt_config() {
  local conf=$1/etc/apt/apt.conf.d clean
  clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb'
  clean+=' /var/cache/apt/*.bin || true"'
  printf 'DPkg::Post-Invoke { %s; };\nAPT::Update::Post-Invoke { %s; };\n' "$clean" "$clean" \
    >"$conf/docker-clean"
  printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' >>"$conf/docker-clean"
  echo 'Acquire::Languages "none";' >"$conf/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$conf/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$conf/docker-autoremove-suggests"
  if [ "$2" = slim ]; then
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      >"$1/etc/dpkg/dpkg.cfg.d/docker"
  fi
}

# make_image TARBALL KEY DESCRIPTION VARIANT NAME...: commit the tarball as a one-layer image.
make_image() {
  local tarball=$1 key=$2 what=$3 variant=$4 t ctr mnt args=() e
  shift 4
  t=$(now_us)
  for name in "$@"; do podman rmi --force "$name" >/dev/null 2>&1 || true; done
  for e in "${IMAGE_ENV[@]}"; do args+=(--env "$e"); done
  if [ -n "${IMAGE_PYTHON:-}" ]; then args+=(--env "PYTHON_VERSION=$IMAGE_PYTHON"); fi
  ctr=$(buildah from scratch)
  if ! {
    mnt=$(buildah mount "$ctr") \
      && tar --numeric-owner --xattrs --xattrs-include='*' -C "$mnt" -xf "$tarball" \
      && apt_config "$mnt" "$variant" \
      && buildah umount "$ctr" >/dev/null \
      && buildah config "${args[@]}" --cmd python3 --os linux --arch amd64 \
        --created-by "dockfix e2e: $what" "$ctr" \
      && buildah commit --quiet --rm --format docker "$ctr" "$1" >/dev/null
  }; then
    buildah rm "$ctr" >/dev/null 2>&1 || true
    die "committing $1 from $tarball failed"
  fi
  for name in "${@:2}"; do buildah tag "$1" "$name"; done
  printf '%s %s\n' "$key" "$(podman image inspect --format '{{.Id}}' "$1")" \
    >"$STATE/cache/$(basename "$1").image"
  timed "image $1" "$(elapsed "$t")"
}

# (Committing the two side by side was tried: it was no faster here.)
image_current "${SLIM_NAMES[0]}" "$SLIM_KEY.$IMAGE_RECIPE" \
  || make_image "$SLIM_TAR" "$SLIM_KEY.$IMAGE_RECIPE" \
    "debootstrap $SUITE minbase + python3 (python:3.11-slim)" slim "${SLIM_NAMES[@]}"
image_current "${FULL_NAMES[0]}" "$FULL_KEY.$IMAGE_RECIPE" \
  || make_image "$FULL_TAR" "$FULL_KEY.$IMAGE_RECIPE" "python:3.11-slim + toolchain (python:3.11)" \
    full "${FULL_NAMES[@]}"
# alias_to IMAGE NAME...: tag IMAGE as each NAME that does not already name it.
alias_to() {
  local id name
  id=$(podman image inspect --format '{{.Id}}' "$1")
  for name in "${@:2}"; do
    [ "$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null)" = "$id" ] \
      || buildah tag "$1" "$name"
  done
}
alias_to "${SLIM_NAMES[0]}" "${SLIM_ALIASES[@]}"
alias_to "${FULL_NAMES[0]}" "${FULL_ALIASES[@]}"
for name in "${SLIM_NAMES[@]}" "${FULL_NAMES[@]}" "${SLIM_ALIASES[@]}" "${FULL_ALIASES[@]}"; do
  podman image exists "$name" || die "image $name missing after setup"
done
if [ "$WANT_OLD" != 0 ]; then
  image_current "${OLD_SLIM_NAMES[0]}" "$OLD_KEY.$IMAGE_RECIPE" \
    || IMAGE_PYTHON=$OLD_PYTHON make_image "$OLD_TAR" "$OLD_KEY.$IMAGE_RECIPE" \
      "debootstrap $OLD_SUITE minbase + python3 (python:3.9-slim-bullseye)" slim \
      "${OLD_SLIM_NAMES[@]}"
  podman image exists "${OLD_SLIM_NAMES[1]}" || die "image ${OLD_SLIM_NAMES[1]} missing"
fi

# A container must really start (rlimits, runtime, cgroups): fail here, not in a test.
t=$(now_us)
probe=$(podman run --rm --network none --health-interval=disable "${SLIM_NAMES[0]}" \
  python -c 'import ssl, sys; print(sys.version.split()[0])') \
  || die "podman cannot run a container with this configuration"
timed "probe run (python $probe)" "$(elapsed "$t")"

log "images: $(podman images --format '{{.Repository}}:{{.Tag}}={{.Size}}' \
  | grep '/python:' | tr '\n' ' ')"
# du walks the whole image store (seconds): only worth it when something was created.
if [ ${#TIMINGS[@]} -gt 1 ]; then
  log "state dir $STATE uses $(du -sh "$STATE" 2>/dev/null | cut -f1)"
fi
timed total "$(elapsed "$T_START")"
printf '%s\n' "${TIMINGS[@]}" >"$STATE/last-setup-timings"
log "wrote $STATE/env.sh; export lines follow on stdout"
cat "$STATE/env.sh"
