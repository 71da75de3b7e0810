#!/usr/bin/env bash
# What the test suite needs beyond npm, checked before anything runs (npm's pretest): moto and
# cfn-lint (Python tools), and from Debian unzip, openssl, the PostgreSQL 15 and MariaDB servers
# (drills against real data) and Chromium (the posture page in a real browser). The Debian packages are installed when this
# machine lets it (root, or sudo without a password); otherwise it stops at once, naming each
# missing one and the command that installs them all. Nothing is skipped for want of a server.
set -euo pipefail

packages=()
command -v unzip >/dev/null || packages+=(unzip)
command -v openssl >/dev/null || packages+=(openssl)
mariadb_bin="${LIFEBOAT_MARIADB_BIN:-}"
if [ -n "$mariadb_bin" ]; then
  { [ -x "$mariadb_bin/mariadbd" ] && [ -x "$mariadb_bin/mariadb-install-db" ]; } || {
    echo "LIFEBOAT_MARIADB_BIN=$mariadb_bin holds no mariadbd and mariadb-install-db" >&2
    exit 1
  }
else
  { command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; } && command -v mariadb-install-db >/dev/null ||
    packages+=(mariadb-server)
fi
if [ -n "${LIFEBOAT_CHROMIUM:-}" ]; then
  [ -x "$LIFEBOAT_CHROMIUM" ] || {
    echo "LIFEBOAT_CHROMIUM=$LIFEBOAT_CHROMIUM is not an executable" >&2
    exit 1
  }
else
  command -v chromium >/dev/null || packages+=(chromium)
fi

pg_bin="${LIFEBOAT_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ -n "${LIFEBOAT_PG_BIN:-}" ] && ! [ -x "$pg_bin/postgres" ]; then
  echo "LIFEBOAT_PG_BIN=$pg_bin holds no postgres and initdb" >&2
  exit 1
fi
{ [ -x "$pg_bin/postgres" ] && [ -x "$pg_bin/initdb" ]; } || packages+=(postgresql-15)

python_tools=()
"${MOTO_PYTHON:-python3}" -c 'import moto.server' 2>/dev/null || python_tools+=('moto[server]')
command -v cfn-lint >/dev/null || python_tools+=(cfn-lint)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing what the tests need: ${packages[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
    packages=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "Installing what the tests need: ${packages[*]}" >&2
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
    packages=()
  fi
fi

if [ ${#packages[@]} -gt 0 ] || [ ${#python_tools[@]} -gt 0 ]; then
  command=""
  if [ ${#packages[@]} -gt 0 ]; then
    command="sudo apt-get update && sudo apt-get install -y ${packages[*]}"
  fi
  if [ ${#python_tools[@]} -gt 0 ]; then
    pip="pip install"
    for tool in "${python_tools[@]}"; do pip="$pip \"$tool\""; done
    command="${command:+$command && }$pip"
  fi
  echo "The tests cannot run: this machine lacks ${packages[*]:-}${packages[*]:+ }${python_tools[*]:-}." >&2
  echo "Install them all with:" >&2
  echo "  $command" >&2
  exit 1
fi
