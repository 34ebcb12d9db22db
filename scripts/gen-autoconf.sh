#!/bin/sh
# Turns .config into an autoconf header in which every bool is 0 or 1
# (kconfig's own header leaves disabled options undefined, which invites
# #ifdef; we want `if constexpr (CONFIG_FOO)`). Usage: gen-autoconf.sh .config OUT
set -eu
config=$1
out=$2
tmp="$out.tmp.$$"
{
    echo "// Generated from $config by scripts/gen-autoconf.sh. Do not edit."
    echo "#pragma once"
    sed -n \
        -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/#define \1 1/p' \
        -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=n$/#define \1 0/p' \
        -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/#define \1 0/p' \
        -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\([0-9][0-9]*\)$/#define \1 \2/p' \
        -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(0x[0-9a-fA-F]*\)$/#define \1 \2/p' \
        -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(".*"\)$/#define \1 \2/p' \
        "$config"
} >"$tmp"
mv "$tmp" "$out"
