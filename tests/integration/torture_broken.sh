#!/bin/bash
# A checker that cannot fail proves nothing: with CASTOR_TEST_UNSAFE_TAKEOVER=1 (a deliberately broken build:
# svcmgr takes services over without waiting for the peer's death) the same short torture run must report
# split-brains and fail.
. "$(dirname "$0")/../lib/common.sh"
need_root
[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer hierarchy"
out=$(CASTOR_TEST_UNSAFE_TAKEOVER=1 BUILD=$BUILD FAULTS=2 SEED=5 bash "$(dirname "$0")/../cluster/torture.sh" 2>&1)
rc=$?
echo "$out" | tail -12
[ "$rc" != 0 ] || fail "the torture checker did not catch the broken build"
n=$(echo "$out" | sed -n 's/^split-brains[^:]*: \([0-9]*\)$/\1/p')
[ "${n:-0}" -gt 0 ] || fail "the broken build failed, but not for split-brains"
echo "[castor] broken build (takeover without waiting for D): $n split-brain records found by the checker"
ip netns list | grep -q castor- && fail "the torture run left network namespaces behind"
exit 0
