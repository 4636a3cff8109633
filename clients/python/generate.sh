#!/bin/sh
# Generates the package's gRPC stubs from ../../proto/orchestrator/v1/orchestrator.proto into
# src/finger_orchestrator/_generated/ (or into the folder given as $1, which is how `npm test`
# checks that the committed ones are fresh). `npm run generate` runs it after buf.
# Needs Debian's protobuf-compiler and protobuf-compiler-grpc (for grpc_python_plugin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out="${1:-$here/src/finger_orchestrator/_generated}"
plugin=$(command -v grpc_python_plugin) || {
  echo "grpc_python_plugin not found: apt-get install -y protobuf-compiler protobuf-compiler-grpc" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
protoc -I "$proto" --python_out="$work" --pyi_out="$work" --grpc_python_out="$work" \
  --plugin=protoc-gen-grpc_python="$plugin" "$proto/orchestrator/v1/orchestrator.proto"
mkdir -p "$out"
# The descriptor keeps its file name (orchestrator/v1/orchestrator.proto), so it is the same one
# any other code generated from proto/ registers; only the service stub's absolute import of
# the messages becomes a relative one, inside this package.
cp "$work/orchestrator/v1/orchestrator_pb2.py" "$work/orchestrator/v1/orchestrator_pb2.pyi" "$out/"
sed 's/^from orchestrator\.v1 import orchestrator_pb2 as /from . import orchestrator_pb2 as /' \
  "$work/orchestrator/v1/orchestrator_pb2_grpc.py" > "$out/orchestrator_pb2_grpc.py"
grep -q '^from \. import orchestrator_pb2 as ' "$out/orchestrator_pb2_grpc.py" || {
  echo "generate.sh: the service stub's import was not rewritten (a new grpc_python_plugin?)" >&2
  exit 1
}
printf '"""Generated from proto/ by clients/python/generate.sh: do not edit."""\n' > "$out/__init__.py"
