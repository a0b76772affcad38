#!/bin/bash
# castor export pacemaker (issue 21), checked with Pacemaker's own tools (Debian's pacemaker-cli-utils, no
# cluster started): the samples of etc/services.d and a castor.ini with a fence device per node are exported
# in all three formats; the CIB fragment, put into a full two-node CIB (alpha, beta, stonith-enabled), must
# pass crm_verify; crm_simulate must place each group where Castor would: on the first node of its failover
# domain with both nodes up, on the other with that node down (and the fence device of a node never on it);
# the pcs and crm scripts must name the same primitives, parameters, operations, groups, meta attributes,
# locations and fencing levels as the CIB. Bad input: an unknown format, a missing directory and a service
# file that does not load are refused, with nothing on stdout.
. "$(dirname "$0")/../lib/common.sh"
need_root  # the services directory must be root's (svcmgr's trust rules, which the loader applies)
[ -x "$CASTOR" ] || skip "castor is not built"
command -v crm_verify >/dev/null && command -v crm_simulate >/dev/null && command -v cibadmin >/dev/null ||
  skip "crm_verify, crm_simulate or cibadmin missing (Debian: pacemaker-cli-utils; make deps installs it)"
SAMPLES=$(cd "$(dirname "$0")/../.." && pwd)/etc/services.d
make_scratch; dir=$SCRATCH
mkdir -m 0755 "$dir/services"
install -m 0644 "$SAMPLES"/*.ini "$dir/services/" || fail "copying the samples"
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
def write(name, up):
    st = cib.find("status")
    if st is None:
        st = ET.SubElement(cib, "status")
    for c in list(st):
        st.remove(c)
    for i, n in ((1, "alpha"), (2, "beta")):
        if n in up:
            ET.SubElement(st, "node_state", id=str(i), uname=n, in_ccm="true", crmd="online", join="member", expected="member")
        else:
            ET.SubElement(st, "node_state", id=str(i), uname=n, in_ccm="false", crmd="offline", join="down", expected="down")
    ET.ElementTree(cib).write(d + "/" + name)
write("full.xml", ("alpha", "beta"))
write("alpha-down.xml", ("beta",))
write("beta-down.xml", ("alpha",))
PY
if ! crm_verify --xml-file "$dir/full.xml" -V >"$dir/verify.log" 2>&1; then
  cat "$dir/verify.log"
  fail "crm_verify refused the exported CIB"
fi
cat "$dir/verify.log"
crm_verify --xml-file "$dir/full.xml" 2>&1 | grep -qi "error" && fail "crm_verify reported an error"

# Where Castor puts each service: the first node of its domain when it is up, else the other (autostart
# = no: nowhere). Read from the sample files themselves.
expected() {  # down-node -> "group node" lines
  local down=$1 f name nodes auto first second
  for f in "$dir"/services/*.ini; do
    name=$(sed -n 's/^name *= *\([^ ;]*\).*/\1/p' "$f")
    nodes=$(sed -n 's/^nodes *= *\([^;]*\).*/\1/p' "$f" | tr -d ' ')
    auto=$(sed -n 's/^autostart *= *\([a-z]*\).*/\1/p' "$f")
    first=${nodes%%,*}; second=${nodes#*,}; [ "$second" = "$nodes" ] && second=
    if [ "$auto" = no ]; then echo "$name Stopped"
    elif [ "$first" != "$down" ]; then echo "$name $first"
    elif [ -n "$second" ] && [ "$second" != "$down" ]; then echo "$name $second"
    else echo "$name Stopped"; fi
  done | sort
}
placed() {  # xml -> "group node" lines from crm_simulate's result
  crm_simulate --simulate --xml-file "$1" --save-output "$1.out" >"$1.sim" 2>&1 || { cat "$1.sim"; fail "crm_simulate $1"; }
  python3 - "$1.out" "$dir/export.cib" <<'PY'
import sys, xml.etree.ElementTree as ET
out = ET.parse(sys.argv[1]).getroot()
frag = ET.parse(sys.argv[2]).getroot()
running = {}  # resource id -> nodes where its last start succeeded and no later stop
for ns in out.iter("node_state"):
    for r in ns.iter("lrm_resource"):
        ops = sorted(r.iter("lrm_rsc_op"), key=lambda o: int(o.get("call-id", "0")))
        last = [o for o in ops if o.get("operation") in ("start", "stop")]
        if last and last[-1].get("operation") == "start" and last[-1].get("rc-code") == "0":
            running.setdefault(r.get("id"), []).append(ns.get("uname"))
for g in frag.find("resources").findall("group"):
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
for down in none alpha beta; do
  case $down in none) xml=$dir/full.xml ;; *) xml=$dir/$down-down.xml ;; esac
  say "crm_simulate, node down: $down"
  got=$(placed "$xml") || fail "reading crm_simulate's result ($down down)"
  want=$(expected "$down")
  echo "$got"
  grep -A100 "Transition Summary" "$xml.sim" | head -30
  [ "$got" = "$want" ] || fail "placement with $down down: crm_simulate says
$got
Castor would place
$want"
done

say "the pcs and crm scripts say what the CIB says"
python3 - "$dir" <<'PY' || fail "the three formats differ"
import shlex, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
def op_key(name, attrs):
    return (name, attrs.get("interval"), attrs.get("timeout"), attrs.get("on-fail"), attrs.get("OCF_CHECK_LEVEL"))
def empty():
    return {"prim": {}, "groups": {}, "loc": set(), "rules": set(), "levels": set()}

def from_cib():
    r = empty(); root = ET.parse(d + "/export.cib").getroot()
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

cib, pcs, crm = from_cib(), from_pcs(), from_crm()
ok = True
for k in cib:
    for name, other in (("pcs", pcs), ("crm", crm)):
        if cib[k] != other[k]:
            ok = False
            print("%s differs from the CIB in %s:\n  cib: %r\n  %s: %r" % (name, k, cib[k], name, other[k]))
print("primitives %d, groups %d, locations %d, rules %d, levels %d: the same in cib, pcs and crm" %
      (len(cib["prim"]), len(cib["groups"]), len(cib["loc"]), len(cib["rules"]), len(cib["levels"])))
assert len(cib["groups"]) == 5 and len(cib["levels"]) == 2, cib["groups"].keys()
sys.exit(0 if ok else 1)
PY
say "pass"
