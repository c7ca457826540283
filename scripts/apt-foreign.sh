# Sourced after scripts/apt.sh: downloads Debian packages built for arm64 and armhf without
# adding those architectures to the machine's dpkg (no `dpkg --add-architecture`, nothing
# installed). apt runs on a private state of its own under target/arm/apt (lists for arm64 and
# armhf from the machine's own sources, an empty dpkg status), so the machine's apt is left
# as it was. The lists are fetched when missing, and once more when a download fails (old
# lists name files the mirror has dropped).
# shellcheck shell=bash
apt_who=${apt_who:-setup}
foreign_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/arm/apt"
foreign_updated=
foreign_opts=(-q -o DPkg::Lock::Timeout=600 -o APT::Sandbox::User=root
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Architectures::=armhf
    -o Dir::State::Lists="$foreign_dir/lists" -o Dir::State::status="$foreign_dir/status"
    -o Dir::Cache="$foreign_dir/cache")

# foreign_update: the private lists, fetched at most once per script run.
foreign_update() {
    [ -n "$foreign_updated" ] && return 0
    mkdir -p "$foreign_dir/lists/partial" "$foreign_dir/cache/archives/partial"
    touch "$foreign_dir/status"
    echo "$apt_who: apt-get update of the arm64 and armhf lists (in $foreign_dir)" >&2
    apt-get "${foreign_opts[@]}" update >/dev/null ||
        apt_fail "Debian's arm64 and armhf package lists (apt-get update failed)" "apt-get update"
    foreign_updated=1
}

# foreign_cache ARGS...: apt-cache on the private lists (fetched first when there are none).
foreign_cache() {
    compgen -G "$foreign_dir/lists/*_Packages*" >/dev/null || foreign_update
    apt-cache "${foreign_opts[@]}" "$@"
}

# foreign_download DIR PKG:ARCH[=VERSION]...: the .deb files into DIR, never installed; on
# failure the lists are fetched again and it tries once more.
foreign_download() {
    local dir=$1
    shift
    compgen -G "$foreign_dir/lists/*_Packages*" >/dev/null || foreign_update
    mkdir -p "$dir"
    (cd "$dir" && apt-get "${foreign_opts[@]}" download "$@" >/dev/null 2>&1) && return 0
    if [ -z "$foreign_updated" ]; then
        foreign_update
        (cd "$dir" && apt-get "${foreign_opts[@]}" download "$@" >/dev/null 2>&1) && return 0
    fi
    apt_fail "Debian packages $* (apt-get download failed)" "apt-get update"
}
