#!/bin/sh
f=/root/work/health.sh
[ -f "$f" ] || { fail "文件 $f 还不存在" "$f does not exist yet"; exit 1; }
[ -x "$f" ] || { fail "$f 没有执行权限（chmod +x）" "$f is not executable (chmod +x)"; exit 1; }
out=$("$f" 2>&1) || { fail "$f 运行出错（退出码非 0）" "$f exited with an error"; exit 1; }
[ "$out" = "HEALTH_OK" ] || { fail "$f 输出的是 '$out'，应当是 HEALTH_OK" "$f printed '$out', expected HEALTH_OK"; exit 1; }
