# Shared set-up for scripts/up and scripts/test (sourced, not run).
# Each step does what it can on a Debian/Ubuntu machine and says clearly what to do otherwise.

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as root: directly, or through passwordless sudo; fails otherwise.
as_root() {
  if is_root; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

require_rust() {
  command -v cargo >/dev/null || die "Rust is not installed. Install it with:
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\"
then run this script again."
}

pg_bin_dir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Makes sure PostgreSQL's server binaries exist, installing them with apt where possible.
ensure_postgres_installed() {
  [ -n "$(pg_bin_dir)" ] && [ -x "$(pg_bin_dir)/pg_ctl" ] && return 0
  if command -v apt-get >/dev/null; then
    say "installing PostgreSQL (apt-get install postgresql)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || die "could not install PostgreSQL: run 'sudo apt-get install -y postgresql' (needs root), or set DATABASE_URL to a server you have"
  else
    die "PostgreSQL is not installed and apt-get is not available: install PostgreSQL 14+ or set DATABASE_URL"
  fi
}

# Starts the system cluster(s) if they are installed but stopped (Debian's pg_ctlcluster).
start_system_postgres() {
  command -v pg_lsclusters >/dev/null || return 0
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
    if [ "$status" != "online" ]; then
      say "starting PostgreSQL cluster $ver/$name"
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start 2>/dev/null \
        || as_root pg_ctlcluster "$ver" "$name" start 2>/dev/null \
        || say "could not start cluster $ver/$name (needs root): sudo pg_ctlcluster $ver $name start"
    fi
  done
}

# Whether `postgres@127.0.0.1:$1` accepts connections without a password.
pg_trust_ok() {
  local port="$1" bin; bin="$(pg_bin_dir)"
  PGCONNECT_TIMEOUT=3 "${bin:-/usr/bin}/psql" -X -q -w "postgres://postgres@127.0.0.1:${port}/postgres" -c 'SELECT 1' >/dev/null 2>&1 \
    || PGCONNECT_TIMEOUT=3 psql -X -q -w "postgres://postgres@127.0.0.1:${port}/postgres" -c 'SELECT 1' >/dev/null 2>&1
}

# Starts a private trust-auth cluster in $1 on port $2 (as the postgres user when root: the
# server refuses to run as root). Reuses it when it is already running.
start_private_postgres() {
  local dir="$1" port="$2" bin run=()
  bin="$(pg_bin_dir)"
  [ -x "$bin/pg_ctl" ] || die "PostgreSQL server binaries not found"
  mkdir -p "$dir"
  if is_root; then chown postgres: "$dir"; run=(runuser -u postgres --); fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "initialising a private PostgreSQL cluster in $dir"
    "${run[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null || die "initdb failed in $dir"
  fi
  if ! "${run[@]}" "$bin/pg_ctl" status -D "$dir" >/dev/null 2>&1; then
    say "starting the private PostgreSQL cluster on 127.0.0.1:$port"
    "${run[@]}" "$bin/pg_ctl" start -w -t 60 -D "$dir" -l "$dir/server.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null \
      || die "the private PostgreSQL cluster did not start; see $dir/server.log"
  fi
}

# Makes $1 a Python virtual environment holding the packages pinned in $2 (reinstalled when
# that file changes); $3 names them in the message. Succeeds when the environment is usable.
python_venv() {
  local dir="$1" requirements="$2" what="$3"
  command -v python3 >/dev/null || return 1
  if [ ! -x "$dir/bin/python" ] || ! cmp -s "$requirements" "$dir/requirements.txt"; then
    say "installing $what into $dir"
    rm -rf "$dir"
    if python3 -m venv "$dir" && "$dir/bin/pip" install -q -r "$requirements"; then
      cp "$requirements" "$dir/requirements.txt"
    else
      rm -rf "$dir"
    fi
  fi
  [ -x "$dir/bin/python" ]
}

# A TCP port free on 127.0.0.1 (python3 is needed wherever this is used).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
