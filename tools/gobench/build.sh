#!/usr/bin/env bash
# Builds the two Go load generators of `npm run bench:etcd-go` into build/gobench/ (ignored
# by git):
#   etcd-benchmark     etcd's own tools/benchmark, from Debian's etcd source package
#   tinykv-benchmark   tools/gobench/tinykv-benchmark, over Go messages generated from proto/
# Offline, in GOPATH mode, against the Go sources Debian's golang-*-dev packages install
# under /usr/share/gocode (no module proxy). Quick when nothing changed: each binary is
# rebuilt only when a stamp of its inputs (the sources, proto/, this script, the Go
# version) differs from the one recorded next to it. When something it needs is missing it
# stops with one line saying what to install or add; it never edits the system's apt setup.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$root/build/gobench"
gopath="$out/gopath"
gocode=/usr/share/gocode/src

die() { echo "tools/gobench/build.sh: $*" >&2; exit 1; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: run apt-get install $2"; }
need_src() { [ -d "$gocode/$1" ] || die "Go sources of $1 not found in $gocode: run apt-get install $2"; }

need_cmd go golang-go
need_cmd protoc protobuf-compiler
need_cmd protoc-gen-go golang-google-protobuf-dev
need_cmd etcd 'etcd-server etcd-client'
need_src go.etcd.io/etcd/clientv3 golang-etcd-server-dev
need_src google.golang.org/grpc golang-google-grpc-dev
need_src github.com/golang/protobuf/proto golang-goprotobuf-dev
need_src google.golang.org/protobuf/proto golang-google-protobuf-dev

export GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS=
mkdir -p "$gopath/src"
goversion=$(go version)

# The stamp of a set of files: their contents and names, this script and the Go version.
stamp() { { cat "$@" "${BASH_SOURCE[0]}"; printf '%s\n' "$@" "$goversion"; } | sha256sum | cut -d' ' -f1; }
up_to_date() { [ -x "$out/$1" ] && [ "$(cat "$out/$1.stamp" 2>/dev/null)" = "$2" ]; }

# --- etcd's benchmark, from the source of the installed golang-etcd-server-dev ---------
etcd_version=$(dpkg-query -W -f='${Version}' golang-etcd-server-dev 2>/dev/null) ||
  die "golang-etcd-server-dev is not installed: run apt-get install golang-etcd-server-dev"
etcd_src="$out/etcd-src/etcd-${etcd_version%%-*}"
if [ ! -d "$etcd_src/tools/benchmark" ]; then
  need_cmd dpkg-source dpkg-dev
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}")
  apt-cache showsrc etcd 2>/dev/null | grep -q '^Package: etcd$' ||
    die "apt knows no source package for etcd: add the line 'deb-src http://deb.debian.org/debian $codename main' to /etc/apt/sources.list, then run apt-get update"
  echo "tools/gobench/build.sh: fetching etcd's source ($etcd_version) with apt-get source" >&2
  rm -rf "$out/etcd-src" && mkdir -p "$out/etcd-src"
  (cd "$out/etcd-src" && apt-get source -qq "etcd=$etcd_version" >/dev/null) ||
    die "apt-get source etcd=$etcd_version failed (is that version in your deb-src suites? run apt-get update)"
  [ -d "$etcd_src/tools/benchmark" ] || die "apt-get source etcd gave no $etcd_src/tools/benchmark"
fi
etcd_files=$(find "$etcd_src/tools/benchmark" -name '*.go' | sort)
# shellcheck disable=SC2086
etcd_stamp=$(stamp $etcd_files)
if ! up_to_date etcd-benchmark "$etcd_stamp"; then
  echo "tools/gobench/build.sh: building etcd-benchmark" >&2
  dest="$gopath/src/go.etcd.io/etcd/tools"
  rm -rf "$dest" && mkdir -p "$dest" && cp -r "$etcd_src/tools/benchmark" "$dest/"
  (cd "$dest/benchmark" && go build -o "$out/etcd-benchmark" .)
  echo "$etcd_stamp" >"$out/etcd-benchmark.stamp"
fi

# --- tinykv's benchmark, over Go messages generated from proto/ -----------------------
protos=$(cd "$root/proto" && ls ./*.proto | sed 's|^\./||' | sort)
tool_files=$(find "$root/tools/gobench/tinykv-benchmark" -name '*.go' | sort)
# shellcheck disable=SC2086
tool_stamp=$(stamp $(printf "$root/proto/%s\n" $protos) $tool_files)
if ! up_to_date tinykv-benchmark "$tool_stamp"; then
  echo "tools/gobench/build.sh: generating Go messages from proto/ and building tinykv-benchmark" >&2
  gen="$gopath/src/tinykv/gen"
  rm -rf "$gen" && mkdir -p "$gen"
  # protoc-gen-go puts each .proto in a Go package of its own: tell it where every one goes.
  maps=()
  for f in $protos; do maps+=("--go_opt=M$f=tinykv/gen/${f%.proto}"); done
  for f in $protos; do
    mkdir -p "$gen/${f%.proto}"
    (cd "$root/proto" && protoc -I. --go_out="$gen/${f%.proto}" --go_opt=paths=source_relative "${maps[@]}" "$f")
  done
  cmd="$gopath/src/tinykv/cmd/tinykv-benchmark"
  rm -rf "$cmd" && mkdir -p "$cmd"
  # shellcheck disable=SC2086
  cp $tool_files "$cmd/"
  (cd "$cmd" && go build -o "$out/tinykv-benchmark" .)
  echo "$tool_stamp" >"$out/tinykv-benchmark.stamp"
fi
