#!/bin/sh
# Generates the Python gRPC stubs from ../../proto into gen/ (or into the folder given as $1).
# Needs Debian's protobuf-compiler and protobuf-compiler-grpc (for grpc_python_plugin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out="${1:-$here/gen}"
plugin=$(command -v grpc_python_plugin) || {
  echo "grpc_python_plugin not found: apt-get install -y protobuf-compiler protobuf-compiler-grpc" >&2
  exit 1
}
mkdir -p "$out"
protoc -I "$proto" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" "$proto/orchestrator/v1/orchestrator.proto"
echo "generated $out/orchestrator/v1/orchestrator_pb2.py and orchestrator_pb2_grpc.py"
