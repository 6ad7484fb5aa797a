#!/usr/bin/env bash
# One entry point for the two quick-start commands:
#   ./dev.sh demo [ARGS]   set up .venv and run `k8stui demo` (simulated nodes, no servers needed)
#   ./dev.sh test [ARGS]   set up .venv (+ apt packages when root) and run the whole test suite
#   ./dev.sh k8stui ARGS   run k8stui from the venv
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
APT_PACKAGES=(openssh-server openssh-client shellcheck sudo iproute2 curl openssl netcat-openbsd util-linux procps)

python_ok() { python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }

ensure_python() {
  if python_ok && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    return
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
  else
    echo "k8stui needs Python >= 3.10 with venv (sudo apt-get install python3-venv)" >&2
    exit 2
  fi
}

ensure_venv() {
  local extras=$1 stamp="$VENV/.installed-$1"
  ensure_python
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".$extras"
    touch "$stamp"
  fi
}

ensure_system_packages() {
  local missing=()
  for tool in sshd shellcheck sudo ip curl openssl nc unshare; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages for the tests (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
  else
    echo "note: missing ${missing[*]}; tests that need them will be skipped (run as root to install)" >&2
  fi
}

case "${1:-}" in
  demo)
    shift
    ensure_venv ""
    exec "$VENV/bin/k8stui" demo "$@"
    ;;
  test)
    shift
    ensure_system_packages
    ensure_venv "[test]"
    # Every gate runs even when an earlier one fails, so one run reports everything.
    status=0
    "$VENV/bin/ruff" check k8stui tests bench || status=1
    "$VENV/bin/lint-imports" --no-cache || status=1
    "$VENV/bin/python" -m pytest -q "$@" || status=$?
    exit "$status"
    ;;
  k8stui)
    shift
    ensure_venv ""
    exec "$VENV/bin/k8stui" "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo|test|k8stui [ARGS]" >&2
    exit 2
    ;;
esac
