#!/bin/bash
# The director samples (issue 18), checked as an admin would check them: `castor check` accepts
# etc/services.d/director-haproxy.ini (IPaddr2 + lsb:haproxy, the director the harness cluster runs:
# tests/integration/director_short.sh) and etc/services.d/director-ldirectord.ini (IPaddr2 +
# ocf:heartbeat:ldirectord, for kernels with IPVS: a sample only), each alone in a services.d with nodes
# alpha,beta; with --agents too where haproxy and resource-agents' ldirectord are installed. And it can say no:
# a director whose init script does not exist (lsb:haproxyy) fails --agents (exit 2) naming it.
. "$(dirname "$0")/../lib/common.sh"
need_root  # the trust checks want root-owned files: the copies below are root's
[ -x "$CASTOR" ] || skip "castor is not built"
SAMPLES=$(cd "$(dirname "$0")/../.." && pwd)/etc/services.d
make_scratch; dir=$SCRATCH
for s in director-haproxy director-ldirectord; do
  mkdir -m 0755 "$dir/$s"
  install -m 0644 "$SAMPLES/$s.ini" "$dir/$s/$s.ini" || fail "no sample $SAMPLES/$s.ini"
  say "castor check $s.ini --nodes alpha,beta"
  expect_exit 0 "$CASTOR" check "$dir/$s" --nodes alpha,beta
  echo "$OUT"
  echo "$OUT" | grep -q "1 service(s) valid, 0 error(s)" || fail "castor check $s.ini: $OUT"
done
grep -q '^agent = lsb:haproxy$' "$dir/director-haproxy/director-haproxy.ini" || fail "director-haproxy.ini runs no lsb:haproxy"
if [ -x /etc/init.d/haproxy ] && [ -x /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ]; then
  say "castor check director-haproxy.ini --agents (Debian's /etc/init.d/haproxy and IPaddr2 installed)"
  expect_exit 0 "$CASTOR" check "$dir/director-haproxy" --nodes alpha,beta --agents
fi
if [ -x /usr/lib/ocf/resource.d/heartbeat/ldirectord ]; then
  say "castor check director-ldirectord.ini --agents (resource-agents' ldirectord installed)"
  expect_exit 0 "$CASTOR" check "$dir/director-ldirectord" --nodes alpha,beta --agents
fi
say "a director whose init script is missing: castor check --agents says no"
sed 's/^agent = lsb:haproxy$/agent = lsb:haproxyy/' "$dir/director-haproxy/director-haproxy.ini" >"$dir/director-haproxy/x" &&
  mv "$dir/director-haproxy/x" "$dir/director-haproxy/director-haproxy.ini" && chmod 0644 "$dir/director-haproxy/director-haproxy.ini"
expect_exit 2 "$CASTOR" check "$dir/director-haproxy" --nodes alpha,beta --agents
echo "$OUT" | grep -q "LSB script /etc/init.d/haproxyy: No such file" || fail "castor check did not name the missing script: $OUT"
echo "PASS director_samples"
