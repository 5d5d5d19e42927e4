#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sizes read as qemu-img reads them: `vhdkit read --length` counts exactly the bytes each spelling means.
. "$(dirname "$0")/lib.sh"

truncate -s 3M "$T/raw.img"
for pair in 512:512 0x200:512 1K:1024 1k:1024 4K:4096 1M:1048576 1.5M:1572864 2M:2097152 0x1000:4096 1B:1; do
    spelled=${pair%%:*}
    bytes=${pair#*:}
    n=$(vk read "$T/raw.img" --length "$spelled" | wc -c)
    is "$n" "$bytes" "--length $spelled reads $bytes bytes"
done
n=$(vk read "$T/raw.img" --offset 3M | wc -c)
is "$n" 0 "--offset at the end reads nothing"
is "$(status vk read "$T/raw.img" --offset 2M --length 2M)" 2 "a range past the end: exit 2"
is "$(status vk read "$T/raw.img" --length 1G)" 2 "a length past the end: exit 2"
