#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Damage for tests/e2e/chains_repair.sh: blocks laid out with the wrong sector-bitmap size, or a block size field
# changed without moving the blocks (see lib/ops/layout_guess.c).
#   relayout IN OUT BITMAP [end]  copy a dynamic/differencing VHD with each block's bitmap stored in BITMAP bytes
#                                 (wider: bits first then zero padding, or with "end" padding first; narrower: cut);
#                                 prints the file offset of the first block (0x...)
#   blktap IN OUT                 a VALID copy laid out as blktap's vhd-util does: a gap before each standard bitmap so
#                                 the data starts on a 4 KiB boundary (must not be taken for 4096-byte bitmaps)
#   hyperv IN OUT                 a VALID copy laid out as Hyper-V does: the same, and the footer where the next
#                                 bitmap would go (blocks and footer 2 MiB + 4096 apart, as with 4096-byte bitmaps)
#   blocksize FILE BYTES          set the header's block size field (checksum recomputed), nothing else
import struct
import sys


def checksum(raw, at):
    return (~sum(raw[:at] + b"\0\0\0\0" + raw[at + 4:])) & 0xFFFFFFFF


def read_meta(data):
    footer = data[-512:]
    hoff = struct.unpack(">Q", footer[16:24])[0]
    header = bytearray(data[hoff:hoff + 1024])
    table, = struct.unpack(">Q", header[16:24])
    entries, bs = struct.unpack(">II", header[28:36])
    bat = list(struct.unpack(">%dI" % entries, data[table:table + 4 * entries]))
    return hoff, header, table, bs, bat


def relayout(src, dst, bitmap, at_end, page_align=False, footer_align=False):
    data = open(src, "rb").read()
    hoff, header, table, bs, bat = read_meta(data)
    std = ((bs // 512 // 8 + 511) // 512) * 512
    used = sorted((off, i) for i, off in enumerate(bat) if off != 0xFFFFFFFF)
    first = used[0][0] * 512
    out = bytearray(data[:first])
    for off, i in used:
        bits = data[off * 512:off * 512 + std]
        block = data[off * 512 + std:off * 512 + std + bs]
        if bitmap == 0:
            bm = bits
        elif bitmap >= std:
            pad = b"\0" * (bitmap - std)
            bm = pad + bits if at_end else bits + pad
        else:
            bm = bits[:bitmap]
        if page_align:
            out += b"\0" * ((4096 - (len(out) + len(bm)) % 4096) % 4096)
        bat[i] = len(out) // 512
        out += bm + block
    out[table:table + 4 * len(bat)] = struct.pack(">%dI" % len(bat), *bat)
    if footer_align:
        out += b"\0" * ((4096 - (len(out) + 512) % 4096) % 4096)
    out += data[-512:]
    open(dst, "wb").write(out)
    print("0x%x" % first)


def blocksize(path, bs):
    with open(path, "r+b") as f:
        data = f.read()
        hoff = read_meta(data)[0]
        header = bytearray(data[hoff:hoff + 1024])
        header[32:36] = struct.pack(">I", bs)
        header[36:40] = struct.pack(">I", checksum(bytes(header), 36))
        f.seek(hoff)
        f.write(header)


if sys.argv[1] == "relayout":
    relayout(sys.argv[2], sys.argv[3], int(sys.argv[4]), len(sys.argv) > 5 and sys.argv[5] == "end")
elif sys.argv[1] == "blktap":
    relayout(sys.argv[2], sys.argv[3], 0, False, True)
elif sys.argv[1] == "hyperv":
    relayout(sys.argv[2], sys.argv[3], 0, False, True, True)
elif sys.argv[1] == "blocksize":
    blocksize(sys.argv[2], int(sys.argv[3]))
else:
    sys.exit("usage: relayout IN OUT BITMAP [end] | blocksize FILE BYTES")
