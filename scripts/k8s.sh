#!/usr/bin/env bash
# A real single-node Kubernetes 1.34 for the kube tests, built from Go modules and
# Debian packages (no registry, no prebuilt binaries) and run in a network
# namespace of its own, so the Docker daemon and the host's iptables are untouched.
#
#   scripts/k8s.sh up       build what is missing, start the cluster (idempotent);
#                           the last two lines are the exports for KUBECONFIG and PATH
#   scripts/k8s.sh down     stop it and remove its run state, netns, veth, cgroups
#   scripts/k8s.sh status   say whether it runs
#   scripts/k8s.sh build    only build (binaries, Debian tools, pause image)
#   scripts/k8s.sh kubeconfig   print the admin kubeconfig's path
#   scripts/k8s.sh clean    down, then remove the builds too
#
# Layout: data/k8s/build/<version>-<hash of scripts/k8s/**/go.sum>/ holds the binaries
# (rebuilt only when that key changes), data/k8s/run/ the run state (gone after down),
# data/k8s/logs/ the last run's logs (kept after down, for the error messages).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
KV=v1.34.4
STATE=${K8S_STATE:-$ROOT/data/k8s}
RUN=$STATE/run
LOGS=$STATE/logs
KEY=$KV-$(cat "$ROOT"/scripts/k8s/go.mod "$ROOT"/scripts/k8s/go.sum \
  "$ROOT"/scripts/k8s/kube-router/go.mod "$ROOT"/scripts/k8s/kube-router/go.sum | sha256sum | cut -c1-12)
BUILD=$STATE/build/$KEY
BIN=$BUILD/bin          # the Kubernetes commands and kubectl: what PATH gets
LIBEXEC=$BUILD/libexec  # etcd, CNI plugins, ipset, kube-router, the pause image

# Names and addresses: none shared with the reference study (k8sfeas, 10.250/10.244/10.96),
# docker0 (172.17/16) or the lab subnet (10.213.0.0/24).
NS_NAME=academy-k8s
VETH=acadk8s             # acadk8s-h on the host, acadk8s-n in the netns
BRIDGE=acadk8s0
NODE=academy-k8s-node
NODE_IP=10.209.0.1       # the netns end of the veth: the node and the API server
HOST_IP=10.209.0.2
POD_CIDR=10.210.0.0/24
CLUSTER_CIDR=10.210.0.0/16
SVC_CIDR=10.211.0.0/16
SVC_IP=10.211.0.1
CGROUP=academy-k8s       # the kubelet's cgroupRoot, in every cgroup v1 hierarchy
PAUSE_IMAGE=registry.k8s.io/pause:3.10
IMAGES=${K8S_IMAGES:-academy/tiny:latest}
SOCK=$RUN/containerd/containerd.sock
NS="nsenter --net=/run/netns/$NS_NAME --"
KUBECONFIG_FILE=$RUN/admin.kubeconfig
COMPONENTS="etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-router"

T0=$(date +%s%N)
say() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf 'k8s: %3d.%ds %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }
die() { echo "k8s: $*" >&2; exit 1; }

# --- build: only what is missing ---------------------------------------------------

need_host_tools() {
  local missing=() c pkg
  for c in containerd:containerd ctr:containerd runc:runc iptables:iptables nsenter:util-linux \
    ip:iproute2 openssl:openssl curl:curl gcc:gcc docker:docker.io; do
    command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
  done
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -n "$(find /usr/lib -name libc.a -print -quit 2>/dev/null)" ] || missing+=(libc6-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$LOGS/apt-install.log" 2>&1 ||
      die "apt-get install ${missing[*]} failed (see $LOGS/apt-install.log)"
  fi
}

# Debian's etcd-server, CNI plugins and ipset, unpacked (dpkg -x) rather than installed:
# no service starts (etcd-server's would listen on the host's :2379), nothing outside data/ changes.
build_debian() {
  [ -x "$LIBEXEC/etcd" ] && [ -x "$LIBEXEC/cni/bridge" ] && [ -x "$LIBEXEC/sbin/ipset" ] && return 0
  say "unpacking Debian etcd-server, containernetworking-plugins, ipset"
  local d=$STATE/build/debs
  rm -rf "$d"; mkdir -p "$d/root" "$LIBEXEC/cni" "$LIBEXEC/sbin" "$LIBEXEC/lib"
  (cd "$d" && apt-get download etcd-server containernetworking-plugins ipset libipset13) >"$LOGS/apt-download.log" 2>&1 ||
    die "apt-get download failed (see $LOGS/apt-download.log; apt-get update may help)"
  local f; for f in "$d"/*.deb; do dpkg -x "$f" "$d/root"; done
  cp "$d/root/usr/bin/etcd" "$LIBEXEC/"
  cp "$d"/root/usr/lib/cni/{bridge,host-local,loopback,portmap} "$LIBEXEC/cni/"
  cp "$d/root/usr/sbin/ipset" "$LIBEXEC/sbin/"
  cp -a "$d"/root/usr/lib/x86_64-linux-gnu/libipset.so* "$LIBEXEC/lib/"
  rm -rf "$d"
}

# Version stamps: without them the binaries say v0.0.0-master and kubectl version fails.
ldflags() {
  local p f="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f="$f -X $p.gitVersion=$KV -X $p.gitMajor=1 -X $p.gitMinor=34 -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$f"
}

build_kubernetes() {
  local c ok=1
  for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do [ -x "$BIN/$c" ] || ok=0; done
  [ $ok = 1 ] && return 0
  say "building Kubernetes $KV (about 20 min of CPU the first time; log: $LOGS/build-kubernetes.log)"
  mkdir -p "$BIN"
  (cd "$ROOT/scripts/k8s" && CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -ldflags="$(ldflags)" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl) \
    >"$LOGS/build-kubernetes.log" 2>&1 || die "building Kubernetes failed (see $LOGS/build-kubernetes.log)"
}

build_kube_router() {
  [ -x "$LIBEXEC/kube-router" ] && return 0
  say "building kube-router (NetworkPolicy; log: $LOGS/build-kube-router.log)"
  mkdir -p "$LIBEXEC"
  (cd "$ROOT/scripts/k8s/kube-router" && CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -ldflags="-s -w" \
    -o "$LIBEXEC/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router) \
    >"$LOGS/build-kube-router.log" 2>&1 || die "building kube-router failed (see $LOGS/build-kube-router.log)"
}

# The sandbox image without a registry or docker build: a static pause binary from
# Kubernetes' own build/pause/linux/pause.c, packed by hand as a docker-archive tar.
build_pause() {
  [ -f "$LIBEXEC/pause-image.tar" ] && return 0
  say "building the pause image"
  local src w l c
  src=$(cd "$ROOT/scripts/k8s" && "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  [ -f "$src" ] || die "pause.c not found at $src"
  w=$(mktemp -d); mkdir -p "$w/rootfs" "$w/img"
  nice -n 19 gcc -Os -Wall -Werror -static -DVERSION=v3.10-academy -o "$w/rootfs/pause" "$src" 2>"$LOGS/build-pause.log" ||
    die "building pause failed (see $LOGS/build-pause.log)"
  strip "$w/rootfs/pause"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$w/rootfs" -cf "$w/layer.tar" pause
  l=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$l" >"$w/config.json"
  c=$(sha256sum "$w/config.json" | cut -d' ' -f1)
  mkdir -p "$w/img/$l"; mv "$w/layer.tar" "$w/img/$l/layer.tar"; mv "$w/config.json" "$w/img/$c.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$c" "$PAUSE_IMAGE" "$l" >"$w/img/manifest.json"
  tar -C "$w/img" -cf "$LIBEXEC/pause-image.tar.tmp" . && mv "$LIBEXEC/pause-image.tar.tmp" "$LIBEXEC/pause-image.tar"
  rm -rf "$w"
}

build() {
  mkdir -p "$LOGS"
  need_host_tools
  build_debian
  build_kubernetes
  build_kube_router
  build_pause
  # builds of other keys are stale: drop them (each is about 560 MB)
  local d; for d in "$STATE"/build/v*; do [ "$d" = "$BUILD" ] || rm -rf "$d"; done
}

# --- run ---------------------------------------------------------------------------

pid_of() { [ -f "$RUN/pids/$1.pid" ] && cat "$RUN/pids/$1.pid"; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# start NAME CMD...: in the netns (nsenter --net only: `ip netns exec` would remount /sys
# and hide the cgroup v1 mounts), in a session of its own so a Ctrl-C of make leaves it.
start() {
  local n=$1; shift
  setsid $NS "$@" >"$LOGS/$n.log" 2>&1 </dev/null 9>&- &  # 9: the lock, not theirs to hold
  echo $! >"$RUN/pids/$n.pid"
}

# waitfor NAME SECONDS CMD...: every wait is bounded and names the component and its log.
waitfor() {
  local n=$1 to=$2 end; shift 2
  end=$(( $(date +%s) + to ))
  until "$@" >/dev/null 2>&1; do
    if [ -f "$RUN/pids/$n.pid" ] && ! alive "$n"; then
      tail -n 20 "$LOGS/$n.log" >&2 || true
      die "$n exited while starting (see $LOGS/$n.log)"
    fi
    if [ "$(date +%s)" -ge "$end" ]; then
      tail -n 20 "$LOGS/$n.log" >&2 || true
      die "$n not ready after ${to}s (see $LOGS/$n.log)"
    fi
    sleep 0.2
  done
  say "$n ready"
}

kubectl_() { "$BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" --request-timeout=10s "$@"; }
node_ready() { [ "$(kubectl_ get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
healthy() {
  local c; for c in $COMPONENTS; do alive "$c" || return 1; done
  node_ready
}

# Self-signed PKI, ECDSA P-256 (RSA keys took seconds each on a busy machine).
make_pki() {
  local d=$RUN/pki; mkdir -p "$d"
  ( cd "$d"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj /CN=academy-k8s-ca -out ca.crt
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key
    openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
    sign() { # name subject [SANs]: a server cert when SANs are given, else a client cert
      openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      { echo basicConstraints=CA:FALSE; echo keyUsage=critical,digitalSignature
        if [ -n "${3:-}" ]; then echo extendedKeyUsage=serverAuth,clientAuth; echo "subjectAltName=$3"
        else echo extendedKeyUsage=clientAuth; fi; } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver /CN=kube-apiserver "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$NODE_IP,IP:$SVC_IP"
    sign apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client
    sign admin /O=system:masters/CN=admin
    sign controller-manager /CN=system:kube-controller-manager
    sign scheduler /CN=system:kube-scheduler
    sign kubelet "/O=system:nodes/CN=system:node:$NODE"
    sign kubelet-serving "/CN=$NODE" "DNS:$NODE,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP"
  ) >"$LOGS/pki.log" 2>&1 || die "making the PKI failed (see $LOGS/pki.log)"
}

kubeconfig() { # file user cert server
  cat >"$RUN/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: academy-k8s
  cluster: {server: "$4", certificate-authority: "$RUN/pki/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$RUN/pki/$3.crt", client-key: "$RUN/pki/$3.key"}
contexts:
- name: academy-k8s
  context: {cluster: academy-k8s, user: $2}
current-context: academy-k8s
EOF
}

cgroup_dirs() { awk '$3 == "cgroup" {print $2}' /proc/mounts; }

setup_host() {
  ip netns add "$NS_NAME"
  ip link add "$VETH-h" type veth peer name "$VETH-n"
  ip link set "$VETH-n" netns "$NS_NAME"
  ip addr add "$HOST_IP/30" dev "$VETH-h"
  ip link set "$VETH-h" up
  $NS ip link set lo up
  $NS ip addr add "$NODE_IP/30" dev "$VETH-n"
  $NS ip link set "$VETH-n" up
  # bridged pod traffic must pass iptables (kube-router's NetworkPolicy); pods are not
  # routed out of the netns, which has no default route anyway
  $NS sysctl -qw net.bridge.bridge-nf-call-iptables=1
  $NS sysctl -qw net.ipv4.ip_forward=0
  # the kubelet's cgroupRoot must exist in every hierarchy; cpuset needs cpus and mems
  local d; for d in $(cgroup_dirs); do mkdir -p "$d/$CGROUP"; done
  if [ -d /sys/fs/cgroup/cpuset/$CGROUP ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >/sys/fs/cgroup/cpuset/$CGROUP/cpuset.cpus
    cat /sys/fs/cgroup/cpuset/cpuset.mems >/sys/fs/cgroup/cpuset/$CGROUP/cpuset.mems
  fi
}

write_configs() {
  cat >"$RUN/containerd.toml" <<EOF
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    stream_server_address = "127.0.0.1"
    enable_selinux = false
    netns_mounts_under_state_dir = true
    # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj (-998 for pause),
    # and runc create fails with "can't get final child's PID from pipe: EOF"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$RUN/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$LIBEXEC/cni"
      conf_dir = "$RUN/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "$RUN/containerd/opt"
EOF
  cat >"$RUN/cni/net.d/10-academy-k8s.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "academy-k8s",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$RUN/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  : >"$RUN/resolv.conf"
  cat >"$RUN/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RUN/pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $RUN/pki/kubelet-serving.crt
tlsPrivateKeyFile: $RUN/pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failCgroupV1: false
failSwapOn: false
resolvConf: $RUN/resolv.conf
podLogsDir: $RUN/pod-logs
podCIDR: $POD_CIDR
maxPods: 60
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
syncFrequency: 10s
nodeStatusUpdateFrequency: 5s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
EOF
}

up() {
  mkdir -p "$STATE" "$LOGS"
  if [ -d "$RUN" ] && healthy 2>/dev/null; then
    say "already running"
    print_exports; return 0
  fi
  if leftovers; then
    say "cleaning what a stopped or crashed cluster left"
    down_locked
  fi
  build
  T0=$(date +%s%N)
  rm -f "$LOGS"/{etcd,containerd,kube-*,kubelet,images,pki}.log
  mkdir -p "$RUN"/{pids,cni/net.d,cni/ipam,containerd,kubelet,etcd,pod-logs}
  make_pki
  kubeconfig admin admin admin "https://$NODE_IP:6443"
  kubeconfig controller-manager system:kube-controller-manager controller-manager https://127.0.0.1:6443
  kubeconfig scheduler system:kube-scheduler scheduler https://127.0.0.1:6443
  kubeconfig kubelet "system:node:$NODE" kubelet https://127.0.0.1:6443
  setup_host
  write_configs
  say "pki, netns $NS_NAME, configs"

  start etcd "$LIBEXEC/etcd" --name academy-k8s --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster academy-k8s=http://127.0.0.1:2380 --log-level warn --logger zap
  waitfor etcd 60 $NS curl -sf --max-time 2 http://127.0.0.1:2379/health

  start containerd containerd --config "$RUN/containerd.toml"
  waitfor containerd 60 ctr -a "$SOCK" --timeout 2s version

  # images without a registry: the pause tar, and the lab images out of Docker
  local ctr="ctr -a $SOCK -n k8s.io" img
  {
    $ctr images import "$LIBEXEC/pause-image.tar"
    for img in $IMAGES; do
      docker image inspect "$img" >/dev/null || { echo "image $img is not in Docker (make images)"; exit 1; }
      docker save "$img" | $ctr images import -
    done
  } >"$LOGS/images.log" 2>&1 || die "importing the images failed (see $LOGS/images.log)"
  say "images imported: $PAUSE_IMAGE $IMAGES"

  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
    --tls-cert-file="$RUN/pki/apiserver.crt" --tls-private-key-file="$RUN/pki/apiserver.key" \
    --client-ca-file="$RUN/pki/ca.crt" \
    --kubelet-client-certificate="$RUN/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$RUN/pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$RUN/pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$RUN/pki/sa.pub" --service-account-signing-key-file="$RUN/pki/sa.key" \
    --service-cluster-ip-range="$SVC_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=false --profiling=false --v=1
  waitfor kube-apiserver 180 $NS curl -sf --max-time 2 --cacert "$RUN/pki/ca.crt" https://127.0.0.1:6443/readyz

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$RUN/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$RUN/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$RUN/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --service-account-private-key-file="$RUN/pki/sa.key" --root-ca-file="$RUN/pki/ca.crt" \
    --cluster-signing-cert-file="$RUN/pki/ca.crt" --cluster-signing-key-file="$RUN/pki/ca.key" \
    --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$SVC_CIDR" --profiling=false --v=1
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$RUN/scheduler.kubeconfig" \
    --authentication-kubeconfig="$RUN/scheduler.kubeconfig" --authorization-kubeconfig="$RUN/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
  start kubelet "$BIN/kubelet" --config="$RUN/kubelet.yaml" --kubeconfig="$RUN/kubelet.kubeconfig" \
    --hostname-override="$NODE" --node-ip="$NODE_IP" --root-dir="$RUN/kubelet" --v=1
  waitfor kube-controller-manager 60 $NS curl -sfk --max-time 2 https://127.0.0.1:10257/healthz
  waitfor kube-scheduler 60 $NS curl -sfk --max-time 2 https://127.0.0.1:10259/healthz
  waitfor kubelet 120 node_ready

  # kube-router exits unless the Node object exists: start it after the node is Ready.
  # Only its firewall (NetworkPolicy) controller runs, with iptables and ipset in the netns.
  start kube-router env PATH="$LIBEXEC/sbin:$PATH" LD_LIBRARY_PATH="$LIBEXEC/lib" "$LIBEXEC/kube-router" \
    --kubeconfig="$KUBECONFIG_FILE" --master=https://127.0.0.1:6443 \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --hostname-override="$NODE" --service-cluster-ip-range="$SVC_CIDR" \
    --metrics-port=0 --health-port=20245 -v 1
  waitfor kube-router 60 $NS curl -sf --max-time 2 http://127.0.0.1:20245/healthz

  # a pod cannot be created before the controller-manager made the namespace's default SA
  waitfor kube-controller-manager 60 kubectl_ -n default get serviceaccount default
  say "cluster up (node $NODE at $NODE_IP, logs in $LOGS)"
  print_exports
}

print_exports() {
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
  echo "export PATH=$BIN:\$PATH"
}

# stop NAME: only the PID this script recorded.
stop() {
  local p i; p=$(pid_of "$1") || return 0
  if [ -n "$p" ] && kill "$p" 2>/dev/null; then
    for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$RUN/pids/$1.pid"
}

# pids_in_cgroups: every process in this cluster's pods (they all live under $CGROUP).
pids_in_cgroups() { find "/sys/fs/cgroup/pids/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u; }

# shims of this containerd: their command line names its socket, which is ours alone.
our_shims() {
  local f p
  for f in $(grep -lsaF -- "$SOCK" /proc/[0-9]*/cmdline); do
    p=${f#/proc/}; p=${p%/cmdline}
    case "$(tr '\0' ' ' 2>/dev/null <"$f")" in *containerd-shim*) echo "$p" ;; esac
  done
  true
}

leftovers() {
  [ -d "$RUN" ] || [ -e "/run/netns/$NS_NAME" ] || [ -d "/sys/fs/cgroup/pids/$CGROUP" ] || ip link show "$VETH-h" >/dev/null 2>&1
}

down_locked() {
  leftovers || { say "not running"; return 0; }
  stop kube-router & stop kubelet & wait
  if [ -S "$SOCK" ] && alive containerd; then
    local ctr="ctr -a $SOCK -n k8s.io --timeout 10s" t c
    for t in $($ctr tasks ls -q 2>/dev/null); do $ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    for t in $($ctr tasks ls -q 2>/dev/null); do $ctr tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for c in $($ctr containers ls -q 2>/dev/null); do $ctr containers delete "$c" >/dev/null 2>&1 || true; done
  fi
  local n; for n in kube-scheduler kube-controller-manager kube-apiserver containerd; do stop $n & done; wait
  stop etcd
  # after a crash: the pods' processes and this containerd's shims, by PID
  local p; for p in $(pids_in_cgroups) $(our_shims); do kill -9 "$p" 2>/dev/null || true; done
  # kubelet volumes, container rootfs and shm, pod netns: deepest first
  local m; for m in $(awk -v r="$RUN/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  if [ -e "/run/netns/$NS_NAME" ]; then ip netns del "$NS_NAME"; fi
  ip link del "$VETH-h" 2>/dev/null || true
  # the kubelet's cgroup tree outlives it; its dirs are empty once the pods are gone
  local d; for d in $(cgroup_dirs); do
    [ -d "$d/$CGROUP" ] && find "$d/$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # the kubelet's symlinks in /var/log/containers that point into our run folder
  for m in /var/log/containers/*.log; do
    [ -L "$m" ] && case "$(readlink "$m")" in "$RUN"/*) rm -f "$m" ;; esac
  done
  rm -rf "$RUN"
  say "cluster down"
}

status() {
  if [ -d "$RUN" ] && healthy 2>/dev/null; then
    echo "k8s: running (node $NODE Ready)"; print_exports; return 0
  fi
  local c; for c in $COMPONENTS; do alive "$c" && echo "k8s: $c running" || echo "k8s: $c not running"; done
  return 1
}

[ "$(id -u)" = 0 ] || die "needs root (network namespace, mounts, cgroups)"
mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock -w 600 9 || die "another scripts/k8s.sh holds $STATE/lock"
case "${1:-}" in
  up) up ;;
  down) down_locked ;;
  status) status ;;
  build) build ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  clean) down_locked; rm -rf "$STATE/build" "$LOGS" ;;
  *) echo "usage: $0 up|down|status|build|kubeconfig|clean" >&2; exit 2 ;;
esac
