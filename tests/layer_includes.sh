#!/bin/bash
# Every #include "x/y.h" of a layer's sources must name the layer itself or one of its dependencies.
# Arguments: one per layer, "name:dir1 dir2:dep1 dep2" (mk/layers.mk passes the Makefile's LAYER_* lists).
# Include roots: lib/<layer>/... is included as "<layer>/...", the program folders by their own name.
set -u
declare -A allowed owner
for spec in "$@"; do
  IFS=: read -r name dirs deps <<<"$spec"
  allowed[$name]="$name $deps"
  for d in $dirs; do owner[$d]=$name; done
done
bad=0
for d in "${!owner[@]}"; do
  layer=${owner[$d]}
  for f in "$d"/*.cc "$d"/*.h; do
    [ -e "$f" ] || continue
    while IFS=: read -r line inc; do
      top=${inc%%/*}
      [ -n "${owner[lib/$top]:-}${owner[$top]:-}" ] || continue   # not a layer (a system or test path)
      ok=0
      for a in ${allowed[$layer]}; do [ "$a" = "$top" ] && ok=1; done
      if [ $ok = 0 ]; then
        echo "layer-check: $f:$line includes \"$inc\": layer '$layer' may use only: ${allowed[$layer]}" >&2
        bad=1
      fi
    done < <(grep -n '^#include "' "$f" | sed -E 's/^([0-9]+):#include "([^"]+)".*/\1:\2/')
  done
done
exit $bad
