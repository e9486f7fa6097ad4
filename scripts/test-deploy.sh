#!/usr/bin/env bash
# make test-deploy: the Ansible deployment, for real, on three stand-in servers.
#
# The servers are network namespaces on a bridge of their own (one manager, two
# workers), each with its own sshd and, once the docker role has run, its own
# dockerd. They share this machine's filesystem and reach nothing outside it,
# so what the roles would install is installed here first, and the test
# inventory (ansible/tests/inventory) points every file a host writes at a
# directory of its own. The steps:
#   1. provision them over SSH with site.yml: hardening, Docker, a 3-node
#      Swarm, the cluster's Traefik; then again, which must change nothing;
#   2. load the images (built here from the project's Dockerfiles) into each
#      host's engine and deploy the app for two domains with deploy.yml, the
#      second deployment of one of them again changing nothing;
#   3. check it from outside (ansible/tests/test_cluster.py): each domain's
#      API and pages through Traefik from the right stack, HTTP to HTTPS, the
#      dashboard's login, the firewall and SSH hardening, a killed backend
#      replica;
#   4. deploy a backend that never gets healthy: Swarm must roll it back, and
#      the deployment fail saying so.
# Everything it made (namespaces, daemons, bridge, users, files) is removed at
# the end, also on failure or Ctrl-C. Needs root. Arguments go to pytest.
set -Eeuo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOSTS=(manager1 worker1 worker2)
# The two sites the test deploys, one stack each.
DOMAINS=(site-a.example.com site-b.example.com)
# What the servers need that the roles would install from the network, and
# what the test itself runs (ssh, ss, curl, openssl).
HOST_PACKAGES=(docker.io python3-docker python3-jsondiff openssh-server openssh-client
  nftables chrony unattended-upgrades sudo iproute2 curl openssl)
# Seconds a step may take before the test gives up on it.
STEP_TIMEOUT="${DEPLOY_TEST_STEP_TIMEOUT:-900}"

WORK=""
SUFFIX=""
BRIDGE=""
NET=""

# --- this machine ----------------------------------------------------------------

# Installs the packages the roles expect on the servers, starting no service:
# Debian's maintainer scripts would start sshd, chrony and dockerd on this
# machine itself otherwise.
ensure_host_packages() {
  local missing=() package created=0
  for package in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
      missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  log "installing what the servers need: ${missing[*]}"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    created=1
  fi
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null; }; then
    ((created)) && rm -f /usr/sbin/policy-rc.d
    die "installing ${missing[*]} failed"
  fi
  ((created)) && rm -f /usr/sbin/policy-rc.d
  return 0
}

# A /24 that no route of this machine uses, for the bridge (apart from the
# ranges Docker engines take by default, and the project's private engine's).
pick_subnet() {
  local tries=50 candidate
  while ((tries-- > 0)); do
    candidate="10.$((240 + RANDOM % 10)).$((RANDOM % 250)).0"
    if ! ip route show | grep -q "^${candidate%.0}\."; then
      printf '%s\n' "${candidate%.0}"
      return 0
    fi
  done
  die "no free /24 found for the test bridge"
}

# --- the stand-in servers --------------------------------------------------------

host_ns() { printf 'fsfd%s-%s\n' "$SUFFIX" "$1"; }
host_dir() { printf '%s/hosts/%s\n' "$WORK" "$1"; }
host_ip() {
  local i
  for i in "${!HOSTS[@]}"; do
    if [[ "${HOSTS[$i]}" == "$1" ]]; then
      printf '%s.%d\n' "$NET" "$((11 + i))"
      return 0
    fi
  done
  die "no such host: $1"
}
# Runs a command in a host's network namespace (nsenter: the process keeps this
# machine's mount namespace, which `ip netns exec` would replace).
in_host() {
  local host="$1"
  shift
  nsenter --net="/run/netns/$(host_ns "$host")" "$@"
}

write_sshd_config() {
  local host="$1" dir
  dir="$(host_dir "$host")"
  mkdir -p "$dir/sshd_config.d"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
  # What a fresh Debian server has, with the paths of this host; the base role
  # adds its hardening to sshd_config.d, read first: the first value wins.
  cat >"$dir/sshd_config" <<EOF
Include $dir/sshd_config.d/*.conf
ListenAddress $(host_ip "$host")
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys $WORK/authorized_keys/%u
PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
UsePAM yes
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

start_hosts() {
  local host ns veth i=0
  SUFFIX="$(basename "$WORK" | tail -c 5 | tr -dc 'a-zA-Z0-9')"
  NET="$(pick_subnet)"
  BRIDGE="fsfd${SUFFIX}br"
  log "creating ${#HOSTS[@]} hosts on $NET.0/24 (bridge $BRIDGE)"
  ip link add name "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  mkdir -p /run/sshd "$WORK/authorized_keys"
  ssh-keygen -q -t ed25519 -N '' -C deploy-test -f "$WORK/id_ed25519"
  # Root may log in with the key until the base role forbids it: a bare server.
  install -m 0600 "$WORK/id_ed25519.pub" "$WORK/authorized_keys/root"
  for host in "${HOSTS[@]}"; do
    ns="$(host_ns "$host")"
    veth="fsfd${SUFFIX}v$i"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$(host_ip "$host")/24" dev eth0
    ip -n "$ns" link set eth0 up
    # No default route: nothing outside the bridge is reachable anyway, and a
    # lookup that cannot leave fails at once instead of timing out.
    # What the packages would have created on a server of its own.
    mkdir -p "$(host_dir "$host")"/{chrony,apt.conf.d}
    write_sshd_config "$host"
    in_host "$host" /usr/sbin/sshd -f "$(host_dir "$host")/sshd_config"
    i=$((i + 1))
  done
}

# Stops a daemon by its pidfile, waiting for it: dockerd stops its containers first.
stop_by_pidfile() {
  local pidfile="$1" pid tries=240
  [[ -s "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Every process left in a host's cgroup (its dockerd's cgroup-parent: the
# containers), in each hierarchy: cgroup v1 has one per controller.
kill_cgroup() {
  local name="$1" pid
  local -a trees=()
  mapfile -t trees < <(find /sys/fs/cgroup -maxdepth 2 -type d -name "$name" 2>/dev/null)
  ((${#trees[@]})) || return 0
  while read -r pid; do
    kill -KILL "$pid" 2>/dev/null || true
  done < <(find "${trees[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
  sleep 0.5
  find "${trees[@]}" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  [[ -n "$WORK" ]] && remove_hosts "$status"
  # The engine that built the images, if this run started it.
  if [[ "${PRIVATE_DOCKER_STARTED:-0}" == 1 ]]; then
    stop_private_docker_engine
  fi
  exit "$status"
}

remove_hosts() {
  local status="$1" host ns pid mount
  if ((status != 0)); then
    log "failed: the daemons' last words"
    for host in "${HOSTS[@]}"; do
      [[ -f "$(host_dir "$host")/dockerd.log" ]] &&
        tail -n 15 "$(host_dir "$host")/dockerd.log" | sed "s/^/[$host dockerd] /" >&2
    done
  fi
  log "cleaning up: hosts, daemons, bridge, deploy user, $WORK"
  for host in "${HOSTS[@]}"; do
    stop_by_pidfile "$(host_dir "$host")/dockerd.pid"
    stop_by_pidfile "$(host_dir "$host")/chrony/chronyd.pid"
    stop_by_pidfile "$(host_dir "$host")/sshd.pid"
    kill_cgroup "$(host_ns "$host")"
    ns="$(host_ns "$host")"
    if [[ -e "/run/netns/$ns" ]]; then
      # What still runs in the namespace: SSH sessions, containerd, shims.
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null
      done
      sleep 0.2
      ip netns delete "$ns"
    fi
  done
  # Mounts the engines left behind (overlays, secrets, network namespaces).
  while read -r mount; do
    umount -l "$mount" 2>/dev/null
  done < <(findmnt -rn -o TARGET | grep "^$WORK/" | sort -r)
  [[ -n "$BRIDGE" ]] && ip link delete "$BRIDGE" 2>/dev/null
  if id "$DEPLOY_USER" >/dev/null 2>&1; then
    userdel --remove "$DEPLOY_USER" 2>/dev/null
  fi
  rm -f "/etc/sudoers.d/$DEPLOY_USER"
  rm -rf "$WORK"
}

# The test's login on the servers after hardening: unique to this test.
DEPLOY_USER="fsfdeploy"
# The tag of the images the test builds and deploys.
TAG="${DEPLOY_TEST_TAG:-deploy-test}"

# --- Ansible -----------------------------------------------------------------------

# The inventory: the hosts and test_* values here, the role settings in
# ansible/tests/inventory/group_vars (linked beside it, where Ansible looks).
write_inventory() {
  local host
  mkdir -p "$WORK/inventory" "$WORK/logs"
  ln -s "$ROOT_DIR/ansible/tests/inventory/group_vars" "$WORK/inventory/group_vars"
  {
    cat <<EOF
all:
  vars:
    test_dir: $WORK
    test_repo: $ROOT_DIR
    test_ns_prefix: fsfd$SUFFIX
    test_traefik_image: $TRAEFIK_IMAGE
    test_postgres_image: $POSTGRES_IMAGE
    test_redis_image: $REDIS_IMAGE
    test_prometheus_image: $PROMETHEUS_IMAGE
    app_stack_image_tag: $TAG
  children:
    managers:
      hosts:
        ${HOSTS[0]}:
          ansible_host: $(host_ip "${HOSTS[0]}")
          swarm_node_labels:
            traefik-public.certificates: "true"
    workers:
      hosts:
EOF
    for host in "${HOSTS[@]:1}"; do
      printf '        %s:\n          ansible_host: %s\n' "$host" "$(host_ip "$host")"
    done
    # The last host runs the ml worker module (compose/stack.yaml's constraint).
    printf '          swarm_node_labels:\n            ml: "true"\n'
  } >"$WORK/inventory/hosts.yml"
}

# Runs a playbook against the test's hosts: the tasks and the recap on the
# terminal, everything in logs/NAME.log. Returns ansible-playbook's status.
run_playbook() {
  local name="$1" started=$SECONDS status
  shift
  log "ansible-playbook $name.yml $*"
  set +e
  (
    cd "$ROOT_DIR/ansible" &&
      ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks timeout "$STEP_TIMEOUT" \
        "$ANSIBLE_VENV_DIR/bin/ansible-playbook" -i "$WORK/inventory/hosts.yml" "$name.yml" "$@"
  ) >"$WORK/logs/$name.log" 2>&1
  status=$?
  set -e
  grep -E '^(TASK|changed|fatal|failed|ERROR)|^[a-z0-9]+ +: ok=' "$WORK/logs/$name.log" >&2 || true
  log "$name.yml took $((SECONDS - started))s"
  return "$status"
}

playbook() {
  if ! run_playbook "$@"; then
    tail -n 60 "$WORK/logs/$1.log" >&2
    die "$1.yml failed"
  fi
}

# The run's recap must show no change and no failure on any host.
assert_unchanged() {
  local name="$1" recap
  recap="$(sed -n '/^PLAY RECAP/,$p' "$WORK/logs/$name.log" | grep ' : ok=')"
  if grep -vqE 'changed=0 +unreachable=0 +failed=0' <<<"$recap"; then
    die "the second run of $name.yml changed something:"$'\n'"$recap"
  fi
  log "second run of $name.yml: nothing changed"
}

# --- images ------------------------------------------------------------------------

# The app's images, built from the project's Dockerfiles, and the official
# images they run with (or their stand-ins): scripts/images.sh.
build_images() {
  local started=$SECONDS
  # shellcheck source=scripts/images.sh
  source "$ROOT_DIR/scripts/images.sh"
  # shellcheck source=ci/docker-engine.sh
  source "$ROOT_DIR/ci/docker-engine.sh"
  load_dotenv
  ensure_docker_engine
  ensure_base_images
  REGISTRY='' BACKEND_IMAGE=app-backend WORKER_IMAGE=app-worker FRONTEND_IMAGE=app-frontend \
    build_app_images "$TAG"
  log "images ready in $((SECONDS - started))s"
}

# The hosts reach no registry: each one's engine loads the images, all at once.
# Each load is waited for by its pid (a bare `wait` would also wait for the
# private dockerd, when this run started it, and never return) and checked; one
# that does not finish in time stops the test with what its engine was doing (a
# goroutine dump).
load_images() {
  local host started=$SECONDS
  local -a images=("app-backend:$TAG" "app-worker:$TAG" "app-frontend:$TAG"
    "$TRAEFIK_IMAGE" "$POSTGRES_IMAGE" "$REDIS_IMAGE" "$PROMETHEUS_IMAGE")
  local -A loads=()
  local module
  for module in $(worker_modules); do
    images+=("app-worker-$module:$TAG")
  done
  log "loading ${images[*]} into each host's engine"
  if ! timeout "$STEP_TIMEOUT" docker save -o "$WORK/images.tar" "${images[@]}"; then
    using_private_docker_engine && tail -n 20 "$PRIVATE_DOCKER_DIR/dockerd.log" >&2
    die "docker save failed or took over ${STEP_TIMEOUT}s"
  fi
  for host in "${HOSTS[@]}"; do
    timeout "$STEP_TIMEOUT" docker -H "unix://$(host_dir "$host")/docker.sock" \
      load -q -i "$WORK/images.tar" >"$WORK/logs/load-$host.log" 2>&1 &
    loads[$host]=$!
  done
  for host in "${!loads[@]}"; do
    if ! wait "${loads[$host]}"; then
      cat "$WORK/logs/load-$host.log" >&2
      dump_engine "$host"
      die "loading the images into $host's engine failed or took over ${STEP_TIMEOUT}s"
    fi
  done
  rm -f "$WORK/images.tar"
  log "images loaded in $((SECONDS - started))s"
}

# What a host's dockerd is doing: SIGUSR1 makes it write its goroutines' stacks.
dump_engine() {
  local host="$1" dir pidfile dump
  dir="$(host_dir "$host")"
  pidfile="$dir/dockerd.pid"
  [[ -s "$pidfile" ]] && kill -USR1 "$(<"$pidfile")" 2>/dev/null || return 0
  sleep 2
  dump="$(find "$dir" -name 'goroutine-stacks-*.log' -newer "$pidfile" 2>/dev/null | head -n 1)"
  [[ -n "$dump" ]] || return 0
  cp "$dump" "$WORK/logs/"
  log "$host's dockerd, the goroutines handling the load:"
  grep -B2 -A25 -iE 'image/tarexport|(Load|load)Image' "$dump" | head -n 120 >&2 || true
}

# Swarm's answer to a version whose backend never gets healthy: the update is
# rolled back, the deployment fails saying so, and the site keeps answering
# with the previous version throughout.
check_rollback() {
  local domain="${DOMAINS[0]}" bad="$TAG-unhealthy" host engine service image
  service="${domain//./-}_backend"
  log "an update to a backend that never gets healthy must be rolled back"
  if ! printf 'FROM app-backend:%s\nHEALTHCHECK --interval=2s --timeout=2s --retries=1 CMD ["false"]\n' \
    "$TAG" | docker build -q -t "app-backend:$bad" - >"$WORK/logs/unhealthy-build.log" 2>&1; then
    cat "$WORK/logs/unhealthy-build.log" >&2
    die "building app-backend:$bad failed"
  fi
  docker save -o "$WORK/unhealthy.tar" "app-backend:$bad"
  for host in "${HOSTS[@]}"; do
    engine="unix://$(host_dir "$host")/docker.sock"
    docker -H "$engine" load -q -i "$WORK/unhealthy.tar" >/dev/null
    for image in app-worker $(worker_modules | sed 's/^/app-worker-/') app-frontend; do
      docker -H "$engine" tag "$image:$TAG" "$image:$bad"
    done
  done
  if run_playbook deploy -e "app_domain=$domain" -e "app_stack_image_tag=$bad"; then
    die "deploying a backend that never gets healthy succeeded"
  fi
  grep -q "$service: update rollback_completed" "$WORK/logs/deploy.log" ||
    die "the failed deployment did not report the backend's rollback (logs/deploy.log above)"
  image="$(docker -H "unix://$(host_dir "${HOSTS[0]}")/docker.sock" service inspect "$service" \
    --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}')"
  [[ "$image" == "app-backend:$TAG" ]] || die "$service runs $image after the rollback"
  curl -fsSk --max-time 10 --resolve "$domain:443:$(host_ip "${HOSTS[0]}")" \
    "https://$domain/api/v1/utils/health-check/" >/dev/null ||
    die "$domain does not answer after the rollback"
  log "rolled back to app-backend:$TAG; the site answers"
}

main() {
  local started=$SECONDS host
  local -a host_ips=()
  [[ "$(id -u)" -eq 0 ]] || die "make test-deploy needs root (network namespaces, dockerd)"
  id "$DEPLOY_USER" >/dev/null 2>&1 &&
    die "user $DEPLOY_USER exists: is another deployment test running?"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  ensure_host_packages
  ensure_ansible_venv
  ensure_venv
  build_images
  WORK="$(mktemp -d /var/lib/fsfd.XXXXXX)"
  start_hosts
  write_inventory

  # 1. Bare hosts to a Swarm with Traefik, stage by stage (the images loaded
  #    once Docker runs); then the whole of site.yml again, which changes nothing.
  # One host at a time: the three share this machine's /etc/passwd, where two
  # useradd at once can both add the deploy user (its keys then refused).
  playbook base --forks 1
  playbook docker
  load_images
  playbook swarm
  playbook traefik
  playbook site
  assert_unchanged site

  # 2. Two sites, one stack each; deploying one again changes nothing.
  playbook deploy -e "app_domain=${DOMAINS[0]}"
  playbook deploy -e "app_domain=${DOMAINS[1]}"
  playbook deploy -e "app_domain=${DOMAINS[0]}"
  assert_unchanged deploy

  # 3. From outside, through Traefik.
  log "checking the cluster from outside"
  for host in "${HOSTS[@]}"; do
    host_ips+=("$host=$(host_ip "$host")")
  done
  DEPLOY_TEST_DIR="$WORK" DEPLOY_TEST_DOMAINS="${DOMAINS[*]}" DEPLOY_TEST_HOST_IPS="${host_ips[*]}" \
    DEPLOY_TEST_NS_PREFIX="fsfd$SUFFIX" DEPLOY_TEST_USER="$DEPLOY_USER" \
    "$VENV_DIR/bin/python" -m pytest -p no:cacheprovider -W error \
    --rootdir "$ROOT_DIR/ansible/tests" "$ROOT_DIR/ansible/tests/test_cluster.py" "$@"

  # 4. A failed update.
  check_rollback
  log "deployment test passed in $((SECONDS - started))s"
}

main "$@"
