# SPDX-License-Identifier: GPL-2.0-or-later
# whohas on a vk-gen disk with the gpt layout, checked against sleuthkit and ntfs-3g (see whohas_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/whohas_lib.sh"
whohas_layout gpt
