# SPDX-License-Identifier: GPL-2.0-or-later
# TAP helpers for end-to-end shell tests: ok/not_ok/is/run_status, a temp dir cleaned at exit, the plan at the end.
# Environment (set by tests/e2e/meson.build): VHDKIT (the built binary), VHDKIT_SRCDIR, SHARED (../shared).
set -u
: "${VHDKIT:?VHDKIT must name the vhdkit binary}"
: "${VHDKIT_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SHARED:=$VHDKIT_SRCDIR/../shared}"
export LC_ALL=C

TAP_N=0
TAP_FAILED=0
T=$(mktemp -d "${TMPDIR:-/tmp}/vhdkit-e2e.XXXXXX")
trap 'rm -rf "$T"; echo "1..$TAP_N"' EXIT

ok() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $*"
}

not_ok() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $*"
}

# check "description" command...: ok when the command succeeds
check() {
    desc=$1
    shift
    if "$@" >"$T/.out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/#   /' "$T/.out" | head -20; fi
}

# is GOT WANT "description"
is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        echo "#   got:  '$1'"
        echo "#   want: '$2'"
    fi
}

# status CMD...: runs the command with output in $T/out and $T/err, prints its exit status
status() {
    "$@" >"$T/out" 2>"$T/err"
    echo $?
}

# vk ARGS...: the binary under test
vk() { "$VHDKIT" "$@"; }

# json_get FILE KEY[.PATH]: a scalar from JSON (objects and arrays come back as compact JSON). A dotted path
# ("freed.free.bytes", "chain.0.path") is followed exactly from the top; when it leads nowhere, or for a single
# name, the answer is the first member named like the path's last component anywhere in the document.
json_get() {
    jq -r --arg p "$2" '
      ($p | split(".")) as $parts
      | ([getpath($parts | map(tonumber? // .))?] | map(select(. != null))) as $exact
      | (if ($parts | length) > 1 and ($exact | length) > 0 then $exact[0]
         else first(.. | objects | select(has($parts[-1])) | .[$parts[-1]]) end)
      | select(. != null)
      | if type == "object" or type == "array" then tojson else . end' "$1" 2>/dev/null | head -n 1
}

# sum FILE: content checksum
sum() { sha256sum <"$1" | cut -d' ' -f1; }

# pattern OUT SIZE: random bytes (a 4 KiB piece of them is never all zero in practice)
pattern() { head -c "$2" /dev/urandom >"$1"; }

# skip_all REASON: the whole script cannot run here
skip_all() { echo "1..0 # SKIP $*"; trap 'rm -rf "$T"' EXIT; exit 0; }
