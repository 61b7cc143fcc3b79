# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/run. Source it; do not run it.
#
# Everything here is idempotent: on a machine that already has what is needed, the
# helpers only check and return, so the README's commands stay cheap to re-run.

# Where the repository is, whichever directory the caller was started from.
CLASSKEYS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# What building the workspace needs from the system. libssl-dev and pkg-config are what
# native-tls/openssl-sys look for if any dependency pulls them in; libdbus-1-dev is what the
# `keyring` crate links against for the Secret Service on Linux.
# shellcheck disable=SC2034 # used by the scripts that source this file
CLASSKEYS_BASE_PACKAGES=(build-essential pkg-config libssl-dev libdbus-1-dev ca-certificates)

# What the desktop app (Tauri 2 on WebKitGTK) needs to build and run on Linux.
# shellcheck disable=SC2034 # used by the scripts that source this file
CLASSKEYS_DESKTOP_PACKAGES=(libwebkit2gtk-4.1-dev libsoup-3.0-dev librsvg2-dev
    libayatana-appindicator3-dev libxdo-dev)

# Set once `apt-get update` has run in this process, so several ensure_packages calls
# refresh the package lists at most once.
_classkeys_apt_updated=0

# Cleanup steps, run in reverse order on exit. One EXIT trap for all of them, because a
# second `trap … EXIT` would silently replace the first.
_classkeys_cleanups=()

_classkeys_run_cleanups() {
    local i
    for ((i = ${#_classkeys_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_classkeys_cleanups[i]}" || true
    done
    _classkeys_cleanups=()
}

# Registers a command (a string, eval'd) to run when the script exits, however it exits.
# Ctrl-C and `kill` are turned into ordinary exits so the EXIT trap sees them too.
on_exit() {
    if ((${#_classkeys_cleanups[@]} == 0)); then
        trap _classkeys_run_cleanups EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
    fi
    _classkeys_cleanups+=("$1")
}

# Prints a visible header so the steps of a long run are easy to find in a log.
step() {
    printf '\n==> %s\n' "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# True when the Debian package is fully installed. `dpkg -s` alone also succeeds for a
# removed package whose configuration files remain, hence the Status check.
_classkeys_is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# ensure_packages PKG... — installs the Debian packages that are missing.
# As root it installs them; otherwise it uses sudo when there is one, and when there is not
# it says exactly what to install and stops, rather than failing later with a build error.
ensure_packages() {
    if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
        # Not a Debian-like system: the packages may well be there under other names, so
        # warn instead of refusing to go on.
        printf 'warning: no dpkg/apt-get here; make sure the equivalents of these are installed: %s\n' \
            "$*" >&2
        return 0
    fi

    local missing=() pkg
    for pkg in "$@"; do
        _classkeys_is_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0

    # `env` sets DEBIAN_FRONTEND in both cases: sudo's default policy would drop it from
    # the environment, and a variable assignment cannot follow an array expansion.
    local as_root=(env)
    if ((EUID != 0)); then
        if command -v sudo >/dev/null; then
            as_root=(sudo env)
        else
            printf 'error: these packages are missing and this is not root (and there is no sudo):\n' >&2
            printf '  apt-get install %s\n' "${missing[*]}" >&2
            printf 'Install them as root, then run this again.\n' >&2
            exit 1
        fi
    fi

    step "Installing missing packages: ${missing[*]}"
    if ((_classkeys_apt_updated == 0)); then
        "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update
        _classkeys_apt_updated=1
    fi
    "${as_root[@]}" DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# ensure_tauri_driver — installs tauri-driver, the WebDriver bridge the end-to-end tests
# drive the desktop app through, unless it is already on PATH or in cargo's bin folder (where
# the tests also look). Call it after ensure_rust.
ensure_tauri_driver() {
    if command -v tauri-driver >/dev/null || [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]]; then
        return 0
    fi
    step "Installing tauri-driver (cargo install tauri-driver --locked)"
    cargo install tauri-driver --locked
}

# ensure_rust — makes sure cargo is reachable and the pinned toolchain is installed.
ensure_rust() {
    if ! command -v cargo >/dev/null && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        # rustup installs into ~/.cargo/bin but only adds it to PATH for new login shells.
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null; then
        printf 'error: Rust is not installed (no cargo on PATH or in ~/.cargo/bin).\n' >&2
        printf 'Install it with rustup (https://rustup.rs):\n' >&2
        printf "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh\n" >&2
        # shellcheck disable=SC2016 # the user is to type $HOME, not its value
        printf 'then open a new shell (or run: . "$HOME/.cargo/env") and run this again.\n' >&2
        exit 1
    fi
    if command -v rustup >/dev/null; then
        # Install the toolchain rust-toolchain.toml pins, with its components, up front:
        # some rustup versions no longer do it on first use, and doing it here keeps the
        # download out of the middle of the first build step. Only when something is
        # missing, because `rustup toolchain install` always contacts the server and may
        # replace an installed toolchain under builds that are using it.
        local channel installed
        channel="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$CLASSKEYS_ROOT/rust-toolchain.toml")"
        if [[ -n "$channel" ]]; then
            installed="$(rustup component list --installed --toolchain "$channel" 2>/dev/null || true)"
            if ! grep -q '^rustfmt' <<<"$installed" || ! grep -q '^clippy' <<<"$installed"; then
                step "Installing Rust $channel (pinned in rust-toolchain.toml)"
                rustup toolchain install "$channel" --profile minimal \
                    --component rustfmt --component clippy
            fi
        fi
    fi
}

# Prints the bin directory of the newest PostgreSQL installed the Debian way
# (/usr/lib/postgresql/<major>/bin), falling back to pg_config for other layouts.
_classkeys_find_pg_bindir() {
    local dir
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)"
    if [[ -z "$dir" ]] && command -v pg_config >/dev/null; then
        dir="$(pg_config --bindir)"
    fi
    [[ -n "$dir" && -x "$dir/initdb" ]] || die "cannot find PostgreSQL's initdb (looked in /usr/lib/postgresql/*/bin)"
    printf '%s\n' "$dir"
}

# Runs a PostgreSQL program as the user that owns the throwaway cluster. PostgreSQL refuses
# to run as root, so as root it runs as the `postgres` OS user the Debian package creates.
# The `cd` matters: a postgres user that cannot read the caller's directory (say /root/…)
# makes initdb and pg_ctl fail with "could not identify current directory".
_classkeys_as_pg() {
    if ((EUID == 0)); then
        (cd "$_classkeys_pg_dir" && runuser -u postgres -- "$@")
    else
        (cd "$_classkeys_pg_dir" && "$@")
    fi
}

# True when something already accepts connections on 127.0.0.1:$1.
_classkeys_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_classkeys_stop_postgres() {
    if [[ -n "${_classkeys_pg_dir:-}" && -d "$_classkeys_pg_dir" ]]; then
        if [[ -f "$_classkeys_pg_dir/data/postmaster.pid" ]]; then
            # Immediate: the data is thrown away, so there is nothing worth a clean shutdown.
            _classkeys_as_pg "$_classkeys_pg_bindir/pg_ctl" -D "$_classkeys_pg_dir/data" \
                -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$_classkeys_pg_dir"
    fi
}

# start_throwaway_postgres — starts a private PostgreSQL for the tests and exports
# CLASSKEYS_TEST_POSTGRES_URL (an administrator URL; tests create their own databases).
# It listens on loopback only, trusts every local connection, and is stopped and deleted
# when the calling script exits.
start_throwaway_postgres() {
    ensure_packages postgresql
    _classkeys_pg_bindir="$(_classkeys_find_pg_bindir)"

    # Under /tmp rather than $TMPDIR: the postgres user must be able to reach it, and the
    # socket path inside it must stay under the ~107-byte limit for Unix socket names.
    _classkeys_pg_dir="$(mktemp -d /tmp/classkeys-pg.XXXXXX)"
    on_exit _classkeys_stop_postgres
    mkdir "$_classkeys_pg_dir/socket"
    if ((EUID == 0)); then
        chown -R postgres:postgres "$_classkeys_pg_dir"
    fi

    # --no-sync and fsync=off: the cluster lives for one test run, so durability only costs
    # time. The C locale avoids depending on which locales the machine has generated.
    _classkeys_as_pg "$_classkeys_pg_bindir/initdb" -D "$_classkeys_pg_dir/data" \
        --username=postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >/dev/null

    # Settings go in the configuration file instead of on the pg_ctl command line, which
    # pg_ctl would re-split on spaces. Tests run in parallel and each opens a pool, hence the
    # raised connection limit.
    cat >>"$_classkeys_pg_dir/data/postgresql.conf" <<EOF

# Added by scripts/lib.sh for a throwaway test cluster.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$_classkeys_pg_dir/socket'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # Try ports from 55432 upward (away from the usual 5432, which a system cluster may hold).
    # The busy check skips the obvious cases; a port taken between the check and the start
    # makes the server fail to bind, and then the next port is tried.
    local port started=0 deadline
    for ((port = 55432; port < 55532; port++)); do
        _classkeys_port_busy "$port" && continue
        # A fresh log per attempt, so the check below reads only this attempt's reason.
        # pg_ctl's own complaint is dropped because the log says more.
        rm -f "$_classkeys_pg_dir/server.log"
        if _classkeys_as_pg "$_classkeys_pg_bindir/pg_ctl" -D "$_classkeys_pg_dir/data" \
            -l "$_classkeys_pg_dir/server.log" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
            started=1
            break
        fi
        if ! grep -qi 'could not bind\|address already in use' "$_classkeys_pg_dir/server.log" 2>/dev/null; then
            cat "$_classkeys_pg_dir/server.log" >&2 2>/dev/null || true
            die "the throwaway PostgreSQL did not start (log above)"
        fi
    done
    ((started)) || die "no free port for the throwaway PostgreSQL in 55432–55531"

    # pg_ctl -w waits for the server to say it is ready; this also proves TCP on loopback
    # works, which is how the tests connect.
    deadline=$((SECONDS + 30))
    until "$_classkeys_pg_bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
        if ((SECONDS >= deadline)); then
            cat "$_classkeys_pg_dir/server.log" >&2 2>/dev/null || true
            die "the throwaway PostgreSQL on port $port is not accepting connections"
        fi
        sleep 0.1
    done

    export CLASSKEYS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    printf 'Throwaway PostgreSQL at %s (data in %s)\n' "$CLASSKEYS_TEST_POSTGRES_URL" "$_classkeys_pg_dir"
}
