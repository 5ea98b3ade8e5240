#!/bin/bash
ceph-lab reachable || exit 1
rbd snap ls rbd/vol01 --format json 2>/dev/null | jq -e '.[] | select(.name=="before")' >/dev/null ||
	{ fail "vol01 没有名为 before 的快照" "vol01 has no snapshot named before"; exit 1; }
want=$(rbd export rbd/vol01@before - 2>/dev/null | md5sum)
got=$(rbd export rbd/vol01 - 2>/dev/null | md5sum)
[ "$want" = "$got" ] || { fail "vol01 与快照 before 的内容不同：请回滚" "vol01 differs from its snapshot before: roll it back"; exit 1; }
[ -f /root/changed ] || { fail "请先在快照之后改动 vol01（并 touch /root/changed），再回滚" "change vol01 after the snapshot first (and touch /root/changed), then roll back"; exit 1; }
