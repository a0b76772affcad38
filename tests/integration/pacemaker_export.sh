#!/bin/bash
# castor export pacemaker (issue 21), checked with Pacemaker's own tools (Debian's pacemaker-cli-utils, no
# cluster started): the samples of etc/services.d (and two test services: recovery = disable, autostart =
# no) and a castor.ini with a fence device per node are exported in all three formats; the CIB fragment, put
# into a full two-node CIB (alpha, beta, stonith-enabled), must pass crm_verify -V without a warning;
# crm_simulate must place each group where Castor would: on the first node of its failover domain with both
# nodes up, on the other with that node down (and the fence device of a node never on it), back on a
# returning node only with failback = yes, and after injected monitor failures as its recovery policy says.
# The pcs and crm scripts must name the same primitives, parameters, operations, groups, meta attributes,
# locations and fencing levels as the CIB; with crmsh installed, the CIB crmsh writes from the crm script
# must too. Bad input: an unknown format, a missing directory and a service file that does not load are
# refused, with nothing on stdout. castor import pacemaker reads the exported CIB back into service files
# that castor check accepts and that export to the same CIB objects; it never overwrites a file and refuses
# a CIB that does not parse. --sbd adds a fence_sbd device over the quorum disk that crm_verify accepts, and
# the steps (sbd -d DEV create: Castor's disk format is not sbd's) in every format. The configurations of
# Pacemaker's documentation (tests/data/pacemaker) import to exactly the files and lists their .expect says.
. "$(dirname "$0")/../lib/common.sh"
need_root  # the services directory must be root's (svcmgr's trust rules, which the loader applies)
[ -x "$CASTOR" ] || skip "castor is not built"
command -v crm_verify >/dev/null && command -v crm_simulate >/dev/null && command -v cibadmin >/dev/null ||
  skip "crm_verify, crm_simulate or cibadmin missing (Debian: pacemaker-cli-utils; make deps installs it)"
SAMPLES=$(cd "$(dirname "$0")/../.." && pwd)/etc/services.d
make_scratch; dir=$SCRATCH
mkdir -m 0755 "$dir/services"
install -m 0644 "$SAMPLES"/*.ini "$dir/services/" || fail "copying the samples"
# Two policies no sample has: recovery = disable (a failure stops it, nowhere else) and autostart = no.
cat >"$dir/services/batch.ini" <<'EOF'
[service]
name = batch
nodes = beta, alpha
recovery = disable
[resource work]
agent = ocf:heartbeat:Dummy
param.state = /run/castor/batch.state
EOF
cat >"$dir/services/idle.ini" <<'EOF'
[service]
name = idle
nodes = alpha, beta
autostart = no
failback = yes
[resource unit]
agent = systemd:idle-worker.service
monitor_interval = 0
EOF
chmod 0644 "$dir/services/batch.ini" "$dir/services/idle.ini"
cat >"$dir/castor.ini" <<'EOF'
[quorumd]
node = alpha
[fence alpha]
agent = fence_ipmilan
option.ip = 10.0.0.11
option.username = admin
option.lanplus = 1
password_file = /etc/castor/alpha.fence-password
[fence beta]
agent = /usr/sbin/fence_ipmilan
option.ip = 10.0.0.12
option.username = admin
option.password_script = /usr/local/sbin/beta-password
fence_action = reboot
delay_ms = 2000
EOF

for f in cib pcs crmsh; do
  say "castor export pacemaker --format $f"
  "$CASTOR" export pacemaker --services "$dir/services" --config "$dir/castor.ini" --format "$f" \
    >"$dir/export.$f" 2>"$dir/export.$f.err" || { cat "$dir/export.$f.err"; fail "export --format $f failed"; }
  cat "$dir/export.$f.err"
  grep -q "not expressed: service web, resource http: exec resource not exported" "$dir/export.$f.err" ||
    fail "the exec resource of web is not listed as not expressed ($f)"
  grep -q "NOT EXPRESSED: service web, resource http" "$dir/export.$f" || fail "no comment on web's exec resource in the $f output"
done
cat "$dir/export.cib"

say "bad input: unknown format, missing directory, a service file that does not load"
expect_exit 2 "$CASTOR" export pacemaker --services "$dir/services" --format yaml
echo "$OUT" | grep -q "unknown format 'yaml'" || fail "unknown format: $OUT"
expect_exit 3 "$CASTOR" export pacemaker --services "$dir/nothing-here" --config "$dir/castor.ini"
echo "$OUT" | grep -q "nothing-here does not exist" || fail "missing directory: $OUT"
expect_exit 2 "$CASTOR" export bogus
mkdir -m 0755 "$dir/broken"
install -m 0644 "$SAMPLES/dummy.ini" "$dir/broken/dummy.ini"
printf '[service]\nname = bad\nnodes = alpha\nrecovery = sometimes\n[resource r]\nagent = ocf:heartbeat:Dummy\n' >"$dir/broken/bad.ini"
chmod 0644 "$dir/broken/bad.ini"
"$CASTOR" export pacemaker --services "$dir/broken" --config "$dir/castor.ini" >"$dir/broken.out" 2>"$dir/broken.err"
rc=$?
cat "$dir/broken.err"
[ $rc = 2 ] || fail "a broken service file: exit $rc, expected 2"
[ ! -s "$dir/broken.out" ] || fail "a broken service file still exported: $(cat "$dir/broken.out")"
grep -q "bad.ini:4: .*sometimes" "$dir/broken.err" || fail "the broken file's error is not named"

say "the fragment in a full two-node CIB: crm_verify"
cibadmin --empty >"$dir/empty.xml" || fail "cibadmin --empty"
python3 - "$dir" <<'PY' || fail "building the full CIBs"
import sys, xml.etree.ElementTree as ET
d = sys.argv[1]
cib = ET.parse(d + "/empty.xml").getroot()
frag = ET.parse(d + "/export.cib").getroot()
conf = cib.find("configuration")
# Quorum as corosync's two_node gives it: both nodes, and the survivor of a clean loss of the other.
cib.set("have-quorum", "1")
for child in list(conf):
    conf.remove(child)
crm = ET.SubElement(conf, "crm_config")
props = ET.SubElement(crm, "cluster_property_set", id="cib-bootstrap-options")
ET.SubElement(props, "nvpair", id="opt-stonith-enabled", name="stonith-enabled", value="true")
nodes = ET.SubElement(conf, "nodes")
for i, n in ((1, "alpha"), (2, "beta")):
    ET.SubElement(nodes, "node", id=str(i), uname=n)
for part in ("resources", "constraints", "fencing-topology"):
    el = frag.find(part)
    assert el is not None or part == "fencing-topology", part
    if el is not None:
        conf.append(el)
def write(name, up, members=((1, "alpha"), (2, "beta"))):
    st = cib.find("status")
    if st is None:
        st = ET.SubElement(cib, "status")
    for c in list(st):
        st.remove(c)
    for i, n in members:
        if n in up:
            ET.SubElement(st, "node_state", id=str(i), uname=n, in_ccm="true", crmd="online", join="member", expected="member")
        else:
            ET.SubElement(st, "node_state", id=str(i), uname=n, in_ccm="false", crmd="offline", join="down", expected="down")
    ET.ElementTree(cib).write(d + "/" + name)
write("full.xml", ("alpha", "beta"))
write("alpha-down.xml", ("beta",))
write("beta-down.xml", ("alpha",))
# Growing beyond two nodes: a third node, gamma, joins; alpha and beta are down.
ET.SubElement(nodes, "node", id="3", uname="gamma")
write("gamma-only.xml", ("gamma",), ((1, "alpha"), (2, "beta"), (3, "gamma")))
PY
if ! crm_verify --xml-file "$dir/full.xml" -V >"$dir/verify.log" 2>&1; then
  cat "$dir/verify.log"
  fail "crm_verify refused the exported CIB"
fi
cat "$dir/verify.log"; echo "crm_verify --xml-file full.xml -V: exit 0, $(grep -ci warning "$dir/verify.log") warning(s)"
grep -qi "warning\|error" "$dir/verify.log" && fail "crm_verify -V warned or reported an error"

# What Castor would do, read from the sample files themselves (keys of [service], with Castor's defaults).
ini() {  # FILE KEY DEFAULT
  local v
  v=$(sed -n '/^\[service\]/,/^\[/s/^'"$2"' *= *\([^;]*\).*/\1/p' "$1" | tr -d ' ')
  echo "${v:-$3}"
}
services() { for f in "$dir"/services/*.ini; do ini "$f" name ""; done | sort; }
file_of() { grep -l "^name *= *$1\( \|;\|$\)" "$dir"/services/*.ini; }
first_node() { local n; n=$(ini "$(file_of "$1")" nodes ""); echo "${n%%,*}"; }
second_node() { local n; n=$(ini "$(file_of "$1")" nodes ""); [ "${n#*,}" = "$n" ] || echo "${n#*,}"; }
# The first node of the domain when it is up, else the other (autostart = no: nowhere).
expected() {  # DOWN-NODE -> "service node" lines
  local s first second
  for s in $(services); do
    first=$(first_node "$s"); second=$(second_node "$s")
    if [ "$(ini "$(file_of "$s")" autostart yes)" = no ]; then echo "$s Stopped"
    elif [ "$first" != "$1" ]; then echo "$s $first"
    elif [ -n "$second" ] && [ "$second" != "$1" ]; then echo "$s $second"
    else echo "$s Stopped"; fi
  done
}
simulate() {  # IN OUT [crm_simulate args]: one transition, its result saved in OUT, its report in OUT.sim
  local in=$1 out=$2
  shift 2
  crm_simulate --simulate --xml-file "$in" --save-output "$out" "$@" >"$out.sim" 2>&1 || { cat "$out.sim"; fail "crm_simulate $in $*"; }
}
placed() {  # OUT -> "group node" lines, from a saved crm_simulate result
  python3 - "$1" "$dir/export.cib" <<'PY'
import sys, xml.etree.ElementTree as ET
out = ET.parse(sys.argv[1]).getroot()
frag = ET.parse(sys.argv[2]).getroot()
running = {}  # resource id -> nodes where its last start or stop was a successful start
for ns in out.iter("node_state"):
    for r in ns.iter("lrm_resource"):
        ops = sorted(r.iter("lrm_rsc_op"), key=lambda o: int(o.get("call-id", "0")))
        last = [o for o in ops if o.get("operation") in ("start", "stop")]
        if last and last[-1].get("operation") == "start" and last[-1].get("rc-code") == "0":
            running.setdefault(r.get("id"), []).append(ns.get("uname"))
for g in sorted(frag.find("resources").findall("group"), key=lambda g: g.get("id")):
    where = set()
    for p in g.findall("primitive"):
        where.update(running.get(p.get("id"), []) or ["Stopped"])
    assert len(where) == 1, (g.get("id"), where)  # a group's members all in one place
    print(g.get("id"), where.pop())
for p in frag.find("resources").findall("primitive"):
    node = p.get("id").split("fence-", 1)[1]
    assert node not in running.get(p.get("id"), []), (p.get("id"), "runs on the node it fences")
PY
}
check_placement() {  # WHAT GOT WANT
  echo "$2"
  [ "$2" = "$3" ] || fail "$1: crm_simulate placed
$2
where Castor would place
$3"
}
for down in none alpha beta; do
  case $down in none) xml=$dir/full.xml ;; *) xml=$dir/$down-down.xml ;; esac
  say "crm_simulate, node down: $down"
  simulate "$xml" "$xml.out"
  grep -A20 "Transition Summary" "$xml.out.sim" | sed '/^$/q'
  got=$(placed "$xml.out") || fail "reading crm_simulate's result ($down down)"
  check_placement "$down down" "$got" "$(expected "$down")"
done

# A third node is outside every failover domain: with alpha and beta down nothing starts on gamma (the
# domain rule), until the admin widens the domain; the fence devices may run there. (The CIB says it has
# quorum, which one node of three would not have: here only the domain rule is to decide.)
say "crm_simulate, three nodes, only gamma up"
simulate "$dir/gamma-only.xml" "$dir/gamma-only.xml.out"
grep -A20 "Transition Summary" "$dir/gamma-only.xml.out.sim" | sed '/^$/q'
got=$(placed "$dir/gamma-only.xml.out") || fail "reading crm_simulate's result (gamma only)"
check_placement "gamma only" "$got" "$(expected alpha | sed 's/ .*/ Stopped/')"
grep -q "Start.*fence-alpha.*gamma" "$dir/gamma-only.xml.out.sim" || fail "fence-alpha does not start on gamma"

# The node comes back: a service on its second node moves back to its first only with failback = yes.
for back in alpha beta; do
  say "crm_simulate: $back returns (each service's failback decides)"
  python3 - "$dir/$back-down.xml.out" "$dir/$back-back.xml" "$back" <<'PY' || fail "bringing $back back"
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1])
for ns in t.getroot().iter("node_state"):
    if ns.get("uname") == sys.argv[3]:
        ns.attrib.update(in_ccm="true", crmd="online", join="member", expected="member")
t.write(sys.argv[2])
PY
  simulate "$dir/$back-back.xml" "$dir/$back-back.xml.out"
  grep -A20 "Transition Summary" "$dir/$back-back.xml.out.sim" | sed '/^$/q'
  want=$(expected "$back" | while read -r s node; do
    if [ "$node" != Stopped ] && [ "$(first_node "$s")" = "$back" ] && [ "$(ini "$(file_of "$s")" failback no)" = yes ]; then
      echo "$s $back"
    else
      echo "$s $node"
    fi
  done)
  got=$(placed "$dir/$back-back.xml.out") || fail "reading crm_simulate's result ($back back)"
  check_placement "$back back" "$got" "$want"
done

# Failures: recovery = restart restarts in place max_restarts times and relocates at the next failure;
# relocate moves at the first; disable stops at the first, and stays stopped. Each service from both nodes up; the failure is injected into the monitor of
# its first monitored resource, one transition per failure.
for s in $(services); do
  recovery=$(ini "$(file_of "$s")" recovery restart)
  case $recovery in
    restart) n=$(ini "$(file_of "$s")" max_restarts 3) ;;
    relocate | disable) n=0 ;;
    *) fail "recovery $recovery in $(file_of "$s")" ;;
  esac
  [ "$(ini "$(file_of "$s")" autostart yes)" = no ] && continue
  first=$(first_node "$s"); second=$(second_node "$s")
  [ -n "$second" ] || continue
  mon=$(python3 - "$dir/export.cib" "$s" <<'PY'
import sys, xml.etree.ElementTree as ET
frag = ET.parse(sys.argv[1]).getroot()
for g in frag.find("resources").findall("group"):
    if g.get("id") != sys.argv[2]: continue
    for p in g.findall("primitive"):
        for o in p.iter("op"):
            if o.get("name") == "monitor":
                i = o.get("interval")
                ms = int(i[:-2]) if i.endswith("ms") else int(i[:-1]) * 1000
                print("%s_monitor_%d" % (p.get("id"), ms)); sys.exit(0)
PY
)
  [ -n "$mon" ] || continue
  say "crm_simulate: $s (recovery $recovery$([ "$recovery" = restart ] && echo ", max_restarts $n")) fails $((n + 1)) time(s) on $first"
  cur=$dir/full.xml.out
  for k in $(seq 1 $((n + 1))); do
    simulate "$cur" "$dir/$s-fail$k.xml" --op-inject "$mon@$first=7"
    cur=$dir/$s-fail$k.xml
    got=$(placed "$cur" | sed -n "s/^$s //p")
    want=$first
    if [ "$k" -gt "$n" ]; then [ "$recovery" = disable ] && want=Stopped || want=$second; fi
    echo "failure $k: $s on $got"
    [ "$got" = "$want" ] || { cat "$cur.sim"; fail "$s after failure $k: on $got, Castor would have it on $want"; }
  done
  if [ "$recovery" = disable ]; then  # and it stays stopped: nothing starts it again, here or elsewhere
    simulate "$cur" "$cur.again"
    got=$(placed "$cur.again" | sed -n "s/^$s //p")
    echo "one transition later: $s on $got"
    [ "$got" = Stopped ] || { cat "$cur.again.sim"; fail "$s (recovery disable) started again on $got"; }
  fi
done

# crmsh itself (when installed; make deps installs it) loads the crm script into a copy of the two-node
# CIB: what it wrote must be what the CIB export says. -F: the fence agent is not installed here, and crmsh
# refuses a stonith resource whose agent gives no meta-data otherwise.
if command -v crm >/dev/null; then
  say "crm configure load update export.crmsh, into a CIB file"
  cp "$dir/full.xml" "$dir/crm-loaded.xml"
  CIB_file=$dir/crm-loaded.xml timeout 120 crm -F configure load update "$dir/export.crmsh" >"$dir/crm-load.log" 2>&1 ||
    { cat "$dir/crm-load.log"; fail "crmsh did not load the crm script"; }
  cat "$dir/crm-load.log"
  crm_verify --xml-file "$dir/crm-loaded.xml" >"$dir/crm-verify.log" 2>&1 || { cat "$dir/crm-verify.log"; fail "crm_verify refused the CIB crmsh wrote"; }
else
  say "crmsh is not installed: the crm script is only parsed"
fi

say "the pcs and crm scripts say what the CIB says"
python3 - "$dir" <<'PY' || fail "the three formats differ"
import shlex, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
def op_key(name, attrs):
    return (name, attrs.get("interval"), attrs.get("timeout"), attrs.get("on-fail"), attrs.get("OCF_CHECK_LEVEL"))
def empty():
    return {"prim": {}, "groups": {}, "loc": set(), "rules": set(), "levels": set()}

def from_cib(path):
    r = empty(); root = ET.parse(path).getroot()
    if root.tag == "cib": root = root.find("configuration")
    def nv(el, tag):
        s = el.find(tag)
        return {} if s is None else {n.get("name"): n.get("value") for n in s.findall("nvpair")}
    def prim(p):
        agent = p.get("class") + ":" + (p.get("provider") + ":" if p.get("provider") else "") + p.get("type")
        ops = set()
        for o in p.iter("op"):
            a = dict(o.attrib); a.update(nv(o, "instance_attributes"))
            ops.add(op_key(o.get("name"), a))
        r["prim"][p.get("id")] = (agent, tuple(sorted(nv(p, "instance_attributes").items())), frozenset(ops))
    res = root.find("resources")
    for g in res.findall("group"):
        for p in g.findall("primitive"): prim(p)
        r["groups"][g.get("id")] = (tuple(p.get("id") for p in g.findall("primitive")), tuple(sorted(nv(g, "meta_attributes").items())))
    for p in res.findall("primitive"): prim(p)
    for l in root.find("constraints").findall("rsc_location"):
        rule = l.find("rule")
        if rule is None: r["loc"].add((l.get("rsc"), l.get("node"), l.get("score")))
        else: r["rules"].add((l.get("rsc"), rule.get("score"), tuple(e.get("value") for e in rule.findall("expression"))))
    ft = root.find("fencing-topology")
    for lv in (ft.findall("fencing-level") if ft is not None else []):
        r["levels"].add((lv.get("target"), lv.get("index"), lv.get("devices")))
    return r

def parse_create_words(words):  # after "ID AGENT": params, "op NAME k=v...", "meta k=v"
    params, ops, meta, mode, cur = {}, set(), {}, "params", None
    for w in words:
        if w in ("op", "meta", "params"):
            if cur: ops.add(op_key(cur[0], cur[1]))
            cur = None; mode = w; continue
        if mode == "op" and cur is None: cur = (w, {}); continue
        k, v = w.split("=", 1)
        if mode == "op": cur[1][k] = v
        elif mode == "meta": meta[k] = v
        else: params[k] = v
    if cur: ops.add(op_key(cur[0], cur[1]))
    return params, frozenset(ops), meta

def from_pcs():
    r = empty(); members = {}
    for line in open(d + "/export.pcs"):
        if not line.startswith('pcs -f "$CIB" '): continue
        w = shlex.split(line)[3:]
        if w[:2] in (["resource", "create"], ["stonith", "create"]):
            flags = [x for x in w if x.startswith("--")]
            group = w[w.index("--group") + 1] if "--group" in w else None
            rest = [x for x in w[4:] if not x.startswith("--") and x != group]
            params, ops, meta = parse_create_words(rest)
            agent = w[3] if w[0] == "resource" else "stonith:" + w[3]
            r["prim"][w[2]] = (agent, tuple(sorted(params.items())), ops)
            if group: members.setdefault(group, []).append(w[2])
        elif w[:2] == ["resource", "meta"]:
            r["groups"][w[2]] = (tuple(members[w[2]]), tuple(sorted(dict(x.split("=", 1) for x in w[3:]).items())))
        elif w[:2] == ["constraint", "location"]:
            if w[3] == "prefers": n, s = w[4].split("=", 1); r["loc"].add((w[2], n, s))
            elif w[3] == "avoids": r["loc"].add((w[2], w[4], "-INFINITY"))
            elif w[3] == "rule":
                score = [x.split("=", 1)[1] for x in w if x.startswith("score=")][0]
                r["rules"].add((w[2], score, tuple(w[i + 2] for i, x in enumerate(w) if x == "#uname")))
        elif w[:3] == ["stonith", "level", "add"]:
            r["levels"].add((w[4], w[3], w[5]))
        else:
            raise SystemExit("pcs: unknown line " + line)
    return r

def from_crm():
    r = empty(); text = open(d + "/export.crmsh").read().replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"): continue
        w = shlex.split(line, comments=False)
        if w[0] == "primitive":
            params, ops, meta = parse_create_words(w[3:])
            r["prim"][w[1]] = (w[2], tuple(sorted(params.items())), ops)
        elif w[0] == "group":
            ids = [x for x in w[2:] if "=" not in x and x != "meta"]
            meta = dict(x.split("=", 1) for x in w[2:] if "=" in x)
            r["groups"][w[1]] = (tuple(ids), tuple(sorted(meta.items())))
        elif w[0] == "location":
            score = lambda s: "-INFINITY" if s == "-inf" else s
            if w[3] == "rule":
                r["rules"].add((w[2], score(w[5].rstrip(":")), tuple(w[i + 2] for i, x in enumerate(w) if x == "#uname")))
            else:
                r["loc"].add((w[2], w[4], score(w[3].rstrip(":"))))
        elif w[0] == "fencing_topology":
            target = None
            for x in w[1:]:
                if x.endswith(":"): target = x[:-1]; idx = 0
                else: idx += 1; r["levels"].add((target, str(idx), x))
        else:
            raise SystemExit("crm: unknown line " + line)
    return r

import os
cib, pcs, crm = from_cib(d + "/export.cib"), from_pcs(), from_crm()
others = [("pcs", pcs), ("crm", crm)]
if os.path.exists(d + "/crm-loaded.xml"):
    others.append(("the CIB crmsh wrote", from_cib(d + "/crm-loaded.xml")))
ok = True
for k in cib:
    for name, other in others:
        if cib[k] != other[k]:
            ok = False
            print("%s differs from the CIB in %s:\n  cib: %r\n  %s: %r" % (name, k, cib[k], name, other[k]))
print("primitives %d, groups %d, locations %d, rules %d, levels %d: the same in cib, %s" %
      (len(cib["prim"]), len(cib["groups"]), len(cib["loc"]), len(cib["rules"]), len(cib["levels"]),
       ", ".join(n for n, _ in others)))
assert len(cib["groups"]) == 7 and len(cib["levels"]) == 2, cib["groups"].keys()
sys.exit(0 if ok else 1)
PY
# --sbd: the quorum disk as an sbd device. The CIB gets a fence_sbd stonith resource over castor.ini's
# [quorumd] device and a level 2 after each node's power fencing, and must still pass crm_verify; every
# format and stderr say that the disk must be re-initialised with sbd -d DEV create, Castor's format not
# being sbd's; the quorum disk is no longer listed as not exported. Without a device, --sbd is refused.
say "castor export pacemaker --sbd"
SBD_DEV=/dev/disk/by-id/scsi-CASTOR-QUORUM-part1
sed "s|^node = alpha|node = alpha\ndevice = $SBD_DEV|" "$dir/castor.ini" >"$dir/castor-sbd.ini"
grep -q "^device = $SBD_DEV" "$dir/castor-sbd.ini" || fail "writing castor-sbd.ini"
for f in cib pcs crmsh; do
  "$CASTOR" export pacemaker --sbd --services "$dir/services" --config "$dir/castor-sbd.ini" --format "$f" \
    >"$dir/export-sbd.$f" 2>"$dir/export-sbd.$f.err" || { cat "$dir/export-sbd.$f.err"; fail "export --sbd --format $f failed"; }
  grep -q "sbd setup 1: Castor's on-disk format is not sbd's: the disk cannot be shared by Castor and sbd" "$dir/export-sbd.$f.err" ||
    fail "--sbd ($f): stderr does not say the formats differ"
  grep -q "sbd setup 2: re-initialise the disk for sbd, on one node: sbd -d $SBD_DEV create" "$dir/export-sbd.$f.err" ||
    fail "--sbd ($f): stderr does not say sbd -d DEV create"
  grep -q "SBD SETUP 2: re-initialise the disk for sbd, on one node: sbd -d $SBD_DEV create" "$dir/export-sbd.$f" ||
    fail "--sbd ($f): the output does not carry the setup steps"
  grep -q "not expressed: the quorum disk and the watchdog" "$dir/export-sbd.$f.err" && fail "--sbd ($f): the quorum disk still listed as not exported"
done
sed -n '/sbd setup/p' "$dir/export-sbd.cib.err"
grep -q "^pcs -f \"\$CIB\" stonith create sbd-fencing fence_sbd devices=$SBD_DEV\$" "$dir/export-sbd.pcs" || fail "--sbd: no fence_sbd in the pcs script"
for n in alpha beta; do
  grep -q "^pcs -f \"\$CIB\" stonith level add 2 $n sbd-fencing\$" "$dir/export-sbd.pcs" || fail "--sbd: no level 2 for $n in the pcs script"
done
grep -q "^fencing_topology alpha: fence-alpha sbd-fencing beta: fence-beta sbd-fencing\$" "$dir/export-sbd.crmsh" ||
  fail "--sbd: the crm script's fencing_topology: $(grep fencing_topology "$dir/export-sbd.crmsh")"
python3 - "$dir/full.xml" "$dir/export-sbd.cib" "$dir/full-sbd.xml" "$SBD_DEV" <<'PY2' || fail "--sbd: the CIB"
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]); conf = t.getroot().find("configuration")
frag = ET.parse(sys.argv[2]).getroot()
for part in ("resources", "constraints", "fencing-topology"):
    conf.remove(conf.find(part)); conf.append(frag.find(part))
sbd = [p for p in conf.find("resources").findall("primitive") if p.get("id") == "sbd-fencing"]
assert len(sbd) == 1 and sbd[0].get("class") == "stonith" and sbd[0].get("type") == "fence_sbd", "no fence_sbd"
params = {n.get("name"): n.get("value") for n in sbd[0].iter("nvpair")}
assert params == {"devices": sys.argv[4]}, params
levels = sorted((l.get("target"), l.get("index"), l.get("devices")) for l in conf.find("fencing-topology"))
assert levels == [("alpha", "1", "fence-alpha"), ("alpha", "2", "sbd-fencing"), ("beta", "1", "fence-beta"),
                  ("beta", "2", "sbd-fencing")], levels
t.write(sys.argv[3])
print("fence_sbd devices=%s; fencing levels %s" % (sys.argv[4], levels))
PY2
crm_verify --xml-file "$dir/full-sbd.xml" -V >"$dir/verify-sbd.log" 2>&1 || { cat "$dir/verify-sbd.log"; fail "crm_verify refused the --sbd CIB"; }
grep -qi "warning\|error" "$dir/verify-sbd.log" && { cat "$dir/verify-sbd.log"; fail "crm_verify -V warned on the --sbd CIB"; }
echo "crm_verify --xml-file full-sbd.xml -V: exit 0, no warning"
simulate "$dir/full-sbd.xml" "$dir/full-sbd.xml.out"
grep -q "Start *sbd-fencing" "$dir/full-sbd.xml.out.sim" || { cat "$dir/full-sbd.xml.out.sim"; fail "crm_simulate does not start sbd-fencing"; }
if command -v crm >/dev/null; then
  cp "$dir/full.xml" "$dir/crm-sbd.xml"
  CIB_file=$dir/crm-sbd.xml timeout 120 crm -F configure load update "$dir/export-sbd.crmsh" >"$dir/crm-sbd.log" 2>&1 ||
    { cat "$dir/crm-sbd.log"; fail "crmsh did not load the --sbd crm script"; }
  crm_verify --xml-file "$dir/crm-sbd.xml" >/dev/null 2>&1 || fail "crm_verify refused the --sbd CIB crmsh wrote"
  python3 - "$dir/crm-sbd.xml" <<'PY2' || fail "crmsh's --sbd CIB differs"
import sys, xml.etree.ElementTree as ET
conf = ET.parse(sys.argv[1]).getroot().find("configuration")
levels = sorted((l.get("target"), l.get("index"), l.get("devices")) for l in conf.find("fencing-topology"))
assert levels == [("alpha", "1", "fence-alpha"), ("alpha", "2", "sbd-fencing"), ("beta", "1", "fence-beta"),
                  ("beta", "2", "sbd-fencing")], levels
assert any(p.get("id") == "sbd-fencing" and p.get("type") == "fence_sbd" for p in conf.iter("primitive"))
PY2
  echo "crmsh loaded the --sbd crm script: the same fence_sbd and levels"
fi
expect_exit 2 "$CASTOR" export pacemaker --sbd --services "$dir/services" --config "$dir/castor.ini"
echo "$OUT" | grep -q "castor.ini names no quorum disk" || fail "--sbd without a device: $OUT"
sed "s|^node = alpha|node = alpha\ndevice = LABEL=quorum|" "$dir/castor.ini" >"$dir/castor-label.ini"
expect_exit 2 "$CASTOR" export pacemaker --sbd --services "$dir/services" --config "$dir/castor-label.ini"
echo "$OUT" | grep -q "is not a path: sbd needs one" || fail "--sbd with LABEL=: $OUT"

say "castor import pacemaker: the exported CIB back to service files; exported again, the same CIB"
mkdir -m 0755 "$dir/imported"
"$CASTOR" import pacemaker "$dir/export.cib" --out "$dir/imported" >"$dir/import.out" 2>"$dir/import.err" ||
  { cat "$dir/import.out" "$dir/import.err"; fail "castor import pacemaker failed"; }
cat "$dir/import.out" "$dir/import.err"
[ "$(grep -c '^wrote ' "$dir/import.out")" = 7 ] || fail "import did not write the 7 services"
grep -q "not mapped: stonith primitive fence-alpha" "$dir/import.err" || fail "the fence devices are not listed as not mapped"
grep -q "not mapped: fencing-topology" "$dir/import.err" || fail "the fencing topology is not listed as not mapped"
expect_exit 0 "$CASTOR" check "$dir/imported" --nodes alpha,beta
echo "$OUT" | grep -q "7 service(s) valid, 0 error(s)" || fail "castor check on the imported files: $OUT"
"$CASTOR" export pacemaker --services "$dir/imported" --config "$dir/castor.ini" >"$dir/export2.cib" 2>/dev/null ||
  fail "exporting the imported services"
# The same objects, each exactly as before; their order follows the file names, which import takes from the
# service names (director-haproxy.ini becomes director.ini).
python3 - "$dir/export.cib" "$dir/export2.cib" <<'PY' || fail "export -> import -> export changed the CIB"
import sys, xml.etree.ElementTree as ET
def canon(path):
    root = ET.parse(path).getroot()
    return {part.tag: sorted(ET.tostring(c, encoding="unicode").strip() for c in part) for part in root}
a, b = canon(sys.argv[1]), canon(sys.argv[2])
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print("differs in <%s>:\n  %r\n  %r" % (k, a.get(k), b.get(k)))
sys.exit(0 if a == b else 1)
PY
echo "export -> import -> export: the same CIB objects (comments aside: web's exec resource is not in the files)"
grep -q '^\[resource http\]' "$dir/imported/web.ini" && fail "the exec resource came back from nowhere"
say "import: an existing file is never overwritten; a CIB that does not parse is refused"
cp "$dir/imported/web.ini" "$dir/web.before"
expect_exit 4 "$CASTOR" import pacemaker "$dir/export.cib" --out "$dir/imported"
cmp -s "$dir/web.before" "$dir/imported/web.ini" || fail "import overwrote web.ini"
printf '<configuration><resources></configuration>' >"$dir/broken.xml"
expect_exit 2 "$CASTOR" import pacemaker "$dir/broken.xml" --out "$dir/imported"
echo "$OUT" | grep -q "line 1: </configuration> closes <resources>" || fail "a broken CIB: $OUT"
expect_exit 3 "$CASTOR" import pacemaker "$dir/none.xml" --out "$dir/imported"

# The configurations of Pacemaker's own documentation (Clusters from Scratch, Pacemaker Explained), as test
# CIBs written in their shape (tests/data/pacemaker, each says which section it follows). Each must be a
# CIB Pacemaker accepts (crm_verify, its nodes online); its import must write exactly the services its
# .expect file names, with those failover domains, and list exactly the lines there as not mapped (clones,
# promotable DRBD, colocations and orders, fencing, ...); every file written must load (castor check).
DATA=$(cd "$(dirname "$0")/../data/pacemaker" && pwd)
ls "$DATA"/*.xml >/dev/null 2>&1 || fail "no test CIBs in $DATA"
for cib in "$DATA"/*.xml; do
  name=$(basename "$cib" .xml)
  say "castor import pacemaker: $name.xml (Pacemaker's documentation)"
  [ -f "$DATA/$name.expect" ] || fail "$name.xml has no $name.expect"
  python3 - "$cib" "$dir/$name.online.xml" <<'PY2' || fail "putting $name's nodes online"
import sys, xml.etree.ElementTree as ET
cib = ET.parse(sys.argv[1]).getroot()
cib.set("have-quorum", "1")
st = cib.find("status")
for n in cib.find("configuration").find("nodes"):
    ET.SubElement(st, "node_state", id=n.get("id"), uname=n.get("uname"), in_ccm="true", crmd="online",
                  join="member", expected="member")
ET.ElementTree(cib).write(sys.argv[2])
PY2
  crm_verify --xml-file "$dir/$name.online.xml" -V >"$dir/$name.verify" 2>&1 ||
    { cat "$dir/$name.verify"; fail "crm_verify refused the test CIB $name.xml"; }
  out=$dir/doc-$name
  mkdir -m 0755 "$out"
  "$CASTOR" import pacemaker "$cib" --out "$out" >"$dir/$name.import.out" 2>"$dir/$name.import.err" ||
    { cat "$dir/$name.import.out" "$dir/$name.import.err"; fail "castor import pacemaker $name.xml failed"; }
  { sed "s|^wrote $out/|wrote |" "$dir/$name.import.out"; cat "$dir/$name.import.err"; } >"$dir/$name.got"
  diff -u "$DATA/$name.expect" "$dir/$name.got" || fail "import of $name.xml: not what $name.expect says"
  cat "$dir/$name.got"
  written=$(grep -c '^wrote ' "$dir/$name.got")
  [ "$(find "$out" -type f | wc -l)" = "$written" ] || fail "$name: files in $out other than the ones listed"
  if [ "$written" -gt 0 ]; then
    # A two-node CIB's files are checked against its two nodes; a three-node one's with any node names.
    nodes=$(python3 -c 'import sys, xml.etree.ElementTree as ET
print(",".join(n.get("uname") for n in ET.parse(sys.argv[1]).getroot().iter("node")))' "$cib")
    case $nodes in *,*,*) expect_exit 0 "$CASTOR" check "$out" ;; *) expect_exit 0 "$CASTOR" check "$out" --nodes "$nodes" ;; esac
    echo "$OUT" | grep -q "$written service(s) valid, 0 error(s)" || fail "castor check on $name's files: $OUT"
    echo "castor check: $written service(s) valid"
  fi
done

# Colocated lone primitives imported as one service (tools/pacemaker_colocation.h): Clusters from Scratch's
# WebSite with ClusterIP. Pacemaker runs both where the one imported service prefers to run.
say "crm_simulate: Clusters from Scratch's colocated ClusterIP and WebSite run where the imported service prefers"
simulate "$dir/cfs-active-passive.online.xml" "$dir/cfs-ap.out"
where=$(python3 - "$dir/cfs-ap.out" <<'PY'
import sys, xml.etree.ElementTree as ET
out = ET.parse(sys.argv[1]).getroot()
for rid in ("ClusterIP", "WebSite"):
    nodes = []
    for ns in out.iter("node_state"):
        for r in ns.iter("lrm_resource"):
            if r.get("id") != rid: continue
            ops = sorted(r.iter("lrm_rsc_op"), key=lambda o: int(o.get("call-id", "0")))
            last = [o for o in ops if o.get("operation") in ("start", "stop")]
            if last and last[-1].get("operation") == "start" and last[-1].get("rc-code") == "0":
                nodes.append(ns.get("uname"))
    print(rid, ",".join(nodes) or "Stopped")
PY
)
echo "$where"
first=$(sed -n 's/^nodes = \([^,]*\).*/\1/p' "$dir/doc-cfs-active-passive/ClusterIP.ini")
[ "$where" = "ClusterIP $first
WebSite $first" ] || fail "Pacemaker placed ClusterIP and WebSite as '$where', the imported service prefers '$first'"
say "pass"
