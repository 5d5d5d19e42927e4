#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line itself: --help everywhere, usage errors exit 2, a man page per command, stdout write errors.
. "$(dirname "$0")/lib.sh"

commands=$(vk --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ -n "$commands" ] && ok "vhdkit --help lists commands" || not_ok "vhdkit --help lists commands"
is "$(echo "$commands" | sort | tr '\n' ' ')" "$(echo "$commands" | tr '\n' ' ')" "commands are listed in sorted order"

for c in $commands; do
    is "$(status vk "$c" --help)" 0 "$c --help exits 0"
    grep -q "^usage: vhdkit $c " "$T/out" && ok "$c --help prints its usage" || not_ok "$c --help prints its usage"
    page="$VHDKIT_SRCDIR/man/vhdkit-$c.1"
    if [ -f "$page" ]; then
        ok "man page for $c exists"
        # every long option of --help is documented in the page (troff escapes dashes as \-)
        missing=""
        for o in $(grep -o -- '--[a-z][a-z-]*' "$T/out" | sort -u); do
            esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
            grep -q -e "$esc" "$page" || missing="$missing $o"
        done
        is "$missing" "" "man page for $c documents every option"
    else
        not_ok "man page for $c exists"
    fi
    grep -q -F "vhdkit\\-$c" "$VHDKIT_SRCDIR/man/vhdkit.1" && ok "vhdkit(1) refers to vhdkit-$c" \
        || not_ok "vhdkit(1) refers to vhdkit-$c"
    grep -q "'$c'" "$VHDKIT_SRCDIR/man/meson.build" && ok "man/meson.build installs vhdkit-$c.1" \
        || not_ok "man/meson.build installs vhdkit-$c.1"
done

is "$(status vk)" 2 "no command: exit 2"
is "$(status vk frobnicate)" 2 "unknown command: exit 2"
grep -q "not a command" "$T/err" && ok "unknown command is named" || not_ok "unknown command is named"
is "$(status vk info)" 2 "info without IMAGE: exit 2"
is "$(status vk info a b)" 2 "info with two images: exit 2"
is "$(status vk info --frob x)" 2 "unknown option: exit 2"
grep -q "unknown option '--frob'" "$T/err" && ok "unknown option is named" || not_ok "unknown option is named"
is "$(status vk read --json x)" 2 "--json on a command without data output: exit 2"
is "$(status vk create "$T/a.vhd" 12Q)" 2 "malformed size: exit 2"
is "$(status vk create "$T/a.vhd" 1.5)" 2 "fraction of a byte: exit 2"
is "$(status vk create "$T/a.vhd" 99999999999999999999)" 2 "size overflowing 64 bits: exit 2"
is "$(status vk create "$T/a.vhd" 1M --type sparse)" 2 "bad --type: exit 2"
is "$(status vk read x --offset)" 2 "option missing its value: exit 2"
[ ! -e "$T/a.vhd" ] && ok "usage errors create nothing" || not_ok "usage errors create nothing"
is "$(status vk info "$T/missing.vhd")" 3 "missing file: exit 3"
grep -q "^vhdkit: $T/missing.vhd: " "$T/err" && ok "error names the file" || not_ok "error names the file"

# A write error on stdout is an error (git's habit): /dev/full fails every write.
if [ -w /dev/full ]; then
    vk --help >/dev/full 2>"$T/err"
    is "$?" 5 "vhdkit --help > /dev/full: exit 5"
    vk info --help >/dev/full 2>"$T/err"
    is "$?" 5 "info --help > /dev/full: exit 5"
    grep -q "standard output" "$T/err" && ok "stdout error is reported" || not_ok "stdout error is reported"
fi
is "$(status vk --version)" 0 "--version exits 0"
