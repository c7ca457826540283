# Sourced by the setup scripts: Debian packages from any state of apt's lists. A new machine's
# lists may be missing (apt-cache knows nothing, apt-get "Unable to locate package") or months
# old (apt-get fetches versions the mirror has dropped: 404, or a candidate that is no longer
# the current one). So every step is tried on the lists as they are, and on failure once more
# after apt-get update; what still fails says in one line what it needed and what to run.
# The caller sets apt_who (its name, for those lines) before sourcing.
# shellcheck shell=bash
apt_who=${apt_who:-setup}
apt_sudo=
[ "$(id -u)" -ne 0 ] && apt_sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# Another apt or dpkg at work (a parallel setup) is waited for, not taken for a failure.
apt_opts=(-q -o DPkg::Lock::Timeout=600)
apt_updated=

# apt_fail NEEDED RUN: the one line, then exit 1.
apt_fail() {
    echo "$apt_who: needs $1; run: $2" >&2
    exit 1
}

# apt_update: apt-get update, at most once per script run.
apt_update() {
    [ -n "$apt_updated" ] && return 0
    echo "$apt_who: apt-get update (apt's lists are missing or out of date)" >&2
    $apt_sudo apt-get "${apt_opts[@]}" update >/dev/null ||
        apt_fail "apt's package lists (apt-get update failed)" "apt-get update"
    apt_updated=1
}

# apt_lists: makes sure apt has lists at all, for apt-cache look-ups (with none they find nothing).
apt_lists() {
    compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt_update
}

# apt_install [OPTION...] PKG...: installs the packages (options such as --no-install-recommends
# go to apt-get); on failure updates the lists and tries again.
apt_install() {
    local pkgs
    pkgs=$(printf '%s\n' "$@" | grep -v '^-' | tr '\n' ' ')
    apt_try_install "$@" && return 0
    if [ -z "$apt_updated" ]; then
        apt_update
        apt_try_install "$@" && return 0
    fi
    grep '^E:' <<<"$apt_err" >&2 || true
    apt_fail "Debian packages ${pkgs% } (apt-get install failed)" "apt-get update && apt-get install ${pkgs% }"
}

# apt_try_install [OPTION...] PKG...: one try, quiet; apt's errors are left in apt_err.
apt_err=
apt_try_install() {
    apt_err=$($apt_sudo apt-get "${apt_opts[@]}" install -y "$@" 2>&1 >/dev/null)
}

# apt_download DIR PKG[=VERSION]...: downloads the .deb files into DIR, never installed. Tries
# once; the caller decides what to do on failure (update, then perhaps another version).
apt_download() {
    local dir=$1
    shift
    # apt's sandbox user cannot write into a root-owned folder: download as root.
    (cd "$dir" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root download "$@" >/dev/null 2>&1)
}

# apt_needs PROGRAM PKG...: the packages are to be installed, by apt_install_needed, unless
# PROGRAM is on PATH already.
apt_needed=()
apt_needs() {
    command -v "$1" >/dev/null || apt_needed+=("${@:2}")
}

# apt_install_needed: installs what apt_needs collected, if anything.
apt_install_needed() {
    [ ${#apt_needed[@]} -gt 0 ] || return 0
    echo "$apt_who: installing ${apt_needed[*]} (Debian packages)"
    apt_install --no-install-recommends "${apt_needed[@]}"
}
