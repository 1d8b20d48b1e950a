#!/usr/bin/env bash
# Regenerates Sources/FlotillaProto from proto-spec/flotilla/v1/*.proto.
# Needs protoc (apt: protobuf-compiler) and builds protoc-gen-swift from the
# swift-protobuf dependency once (about 30 s). The output is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler; }
swift build --product protoc-gen-swift >/dev/null
plugin="$(swift build --show-bin-path)/protoc-gen-swift"
out=Sources/FlotillaProto
rm -f "$out"/*.pb.swift
protoc --proto_path=proto-spec \
  --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$out" --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  proto-spec/flotilla/v1/*.proto
echo "generated: $(ls "$out"/*.pb.swift | wc -l) files in $out"
