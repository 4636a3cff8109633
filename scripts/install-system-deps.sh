#!/usr/bin/env bash
# Debian packages the test suite needs besides npm's: the Python client package
# (clients/python) installs with pip from Debian's setuptools into a venv and runs pytest (its
# fenced-write tests write through both drivers its fencing helper serves, asyncpg and psycopg 3,
# which the package itself does not need); its checked-in stubs are checked fresh against
# protoc and the grpc plugin; the Python example (examples/python) runs on the package; the
# wall-clock test (test/process/wall-clock-jump) preloads libfaketime into the
# orchestrator (the library only; the `faketime` wrapper command is not used); the TLS
# tests make their certificates with the openssl command; the proxy test runs the
# example nginx configuration (deploy/nginx) with Debian's nginx.
# Idempotent: installs only what is missing; needs root (or sudo) and apt.
set -euo pipefail
packages=(python3-grpcio python3-protobuf python3-setuptools python3-pip python3-venv python3-pytest python3-asyncpg python3-psycopg protobuf-compiler protobuf-compiler-grpc libfaketime openssl nginx)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
# The package starts a system nginx on port 80 where services run; the tests start their own.
if [[ " ${missing[*]} " == *" nginx "* ]]; then
  { $sudo systemctl disable --now nginx || $sudo service nginx stop; } >/dev/null 2>&1 || true
fi
