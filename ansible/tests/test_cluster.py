"""The deployed cluster, seen from outside: run by scripts/test-deploy.sh.

Requests go to the manager's address with each site's host name, over the
sockets a browser would open (SNI and Host header alike); Let's Encrypt cannot
be reached, so Traefik serves its default certificate and TLS is not verified.
The hosts' Docker engines are reached through their sockets, which the test
machine shares.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pytest

WORK = os.environ["DEPLOY_TEST_DIR"]
DOMAINS = os.environ["DEPLOY_TEST_DOMAINS"].split()
HOST_IPS = dict(item.split("=") for item in os.environ["DEPLOY_TEST_HOST_IPS"].split())
MANAGER = next(iter(HOST_IPS))
MANAGER_IP = HOST_IPS[MANAGER]
DEPLOY_USER = os.environ["DEPLOY_TEST_USER"]
# What ansible/tests/inventory/group_vars/all.yml sets.
ACME_EMAIL = "ops@example.com"
DASHBOARD_HOST = "traefik.example.com"
DASHBOARD_LOGIN = ("admin", "test-dashboard-password")
SITES = {
    "site-a.example.com": {
        "title": "Site A API",
        "password": "site-a-superuser-password",
        "docs": False,
    },
    "site-b.example.com": {
        "title": "Site B API",
        "password": "site-b-superuser-password",
        "docs": True,
    },
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    certificate_subject: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    host: str,
    path: str,
    *,
    scheme: str = "https",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request to Traefik on the manager, for `host`, following no redirect."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, 443, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, 80, timeout=timeout)

    # The host name is for SNI and Host: the connection goes to the manager.
    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        return socket.create_connection((MANAGER_IP, address[1]), *args, **kwargs)

    connection._create_connection = connect  # type: ignore[attr-defined]
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        subject = ""
        if scheme == "https":
            assert isinstance(connection.sock, ssl.SSLSocket)
            subject = certificate_subject(connection.sock.getpeercert(binary_form=True) or b"")
        return Reply(response.status, dict(response.getheaders()), response.read(), subject)
    finally:
        connection.close()


def certificate_subject(der: bytes) -> str:
    result = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
        input=der,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().strip()


def docker(host: str, *args: str) -> str:
    """The docker CLI against one host's engine."""
    socket_path = f"{WORK}/hosts/{host}/docker.sock"
    result = subprocess.run(
        ["docker", "-H", f"unix://{socket_path}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def stack_name(domain: str) -> str:
    return domain.replace(".", "-")


def labelled_nodes(label: str) -> list[str]:
    return docker(MANAGER, "node", "ls", "--filter", f"node.label={label}", "-q").split()


def wait_for(what: str, check: Any, timeout: float = 120.0) -> Any:
    """Calls check() until it returns a true value, or fails after timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(1)
    pytest.fail(f"{what}: not within {timeout:.0f}s (last: {last!r})")


@pytest.fixture(scope="module", autouse=True)
def routes_loaded() -> None:
    """Traefik reads the stacks every few seconds: wait for both sites."""
    for domain in DOMAINS:
        wait_for(
            f"{domain} routed",
            lambda domain=domain: request(domain, "/api/v1/utils/health-check/").status == 200,
        )


# --- the sites -------------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_health_check_answers_ok_on_each_domain(domain: str) -> None:
    reply = request(domain, "/api/v1/utils/health-check/")
    assert reply.status == 200
    assert reply.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    # The stack's security headers middleware is on the route.
    assert reply.headers.get("Strict-Transport-Security", "").startswith("max-age=31536000")


@pytest.mark.parametrize("domain", DOMAINS)
def test_frontend_serves_the_app_on_each_domain(domain: str) -> None:
    reply = request(domain, "/")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b'<div id="app">' in reply.body


@pytest.mark.parametrize("domain", DOMAINS)
def test_api_docs_follow_each_domains_own_settings(domain: str) -> None:
    """Production serves no docs unless a site turns them on (DOCS_ENABLED); where
    they are on, the spec names the site's own project."""
    reply = request(domain, "/api/v1/swagger.json")
    if SITES[domain]["docs"]:
        assert reply.status == 200
        assert reply.json()["info"]["title"] == SITES[domain]["title"]
    else:
        assert reply.status == 404
        assert reply.json()["message"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_login_works_only_with_the_domains_own_superuser(domain: str) -> None:
    def login(email: str, password: str) -> int:
        form = urllib.parse.urlencode({"username": email, "password": password}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return request(
            domain, "/api/v1/login/access-token", method="POST", headers=headers, body=form
        ).status

    other = next(d for d in DOMAINS if d != domain)
    assert login(f"admin@{domain}", str(SITES[domain]["password"])) == 200
    # The other site's superuser does not exist in this site's database.
    assert login(f"admin@{other}", str(SITES[other]["password"])) == 401


def test_unknown_host_is_not_routed() -> None:
    assert request("unknown.example.com", "/").status == 404


@pytest.mark.parametrize("domain", DOMAINS)
def test_http_redirects_to_https(domain: str) -> None:
    reply = request(domain, "/api/v1/utils/health-check/?x=1", scheme="http")
    assert reply.status in (301, 308)
    assert reply.headers["Location"] == f"https://{domain}/api/v1/utils/health-check/?x=1"


# --- Traefik -----------------------------------------------------------------------------


def test_traefik_serves_its_default_certificate_without_lets_encrypt() -> None:
    assert "TRAEFIK DEFAULT CERT" in request(DOMAINS[0], "/").certificate_subject


def test_traefik_is_configured_for_lets_encrypt() -> None:
    spec = json.loads(docker(MANAGER, "service", "inspect", "traefik_traefik"))[0]["Spec"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    args = container["Args"]
    assert f"--certificatesResolvers.le.acme.email={ACME_EMAIL}" in args
    assert "--certificatesResolvers.le.acme.tlsChallenge=true" in args
    assert "--certificatesResolvers.le.acme.storage=/certificates/acme.json" in args
    # Let's Encrypt's production server, unless the inventory says otherwise.
    ca_server = "--certificatesResolvers.le.acme.caServer=https://acme-v02."
    assert any(arg.startswith(ca_server) for arg in args)
    # The certificates' volume, on the node labelled for it.
    mounts = {mount["Target"]: mount["Type"] for mount in container["Mounts"]}
    assert mounts["/certificates"] == "volume"
    constraints = spec["TaskTemplate"]["Placement"]["Constraints"]
    assert "node.labels.traefik-public.certificates == true" in constraints
    assert len(labelled_nodes("traefik-public.certificates=true")) == 1


def test_routes_ask_lets_encrypt_for_certificates() -> None:
    login = basic_auth(*DASHBOARD_LOGIN)
    routers = request(DASHBOARD_HOST, "/api/http/routers", headers=login).json()
    by_name = {router["name"]: router for router in routers}
    for domain in DOMAINS:
        for part in ("backend", "frontend", "flower"):
            router = by_name[f"{stack_name(domain)}-{part}@swarm"]
            assert router["tls"]["certResolver"] == "le"
            assert router["status"] == "enabled"


def basic_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_dashboard_needs_its_login() -> None:
    right = basic_auth(*DASHBOARD_LOGIN)
    wrong = basic_auth(DASHBOARD_LOGIN[0], "wrong-password")
    assert request(DASHBOARD_HOST, "/dashboard/").status == 401
    assert request(DASHBOARD_HOST, "/dashboard/", headers=wrong).status == 401
    assert request(DASHBOARD_HOST, "/dashboard/", headers=right).status == 200


# --- the hosts -----------------------------------------------------------------------------


def test_swarm_has_one_manager_and_two_workers_ready() -> None:
    nodes = [
        json.loads(line)
        for line in docker(MANAGER, "node", "ls", "--format", "{{json .}}").splitlines()
    ]
    assert len(nodes) == 3
    assert all(node["Status"] == "Ready" for node in nodes)
    assert sorted(node["ManagerStatus"] for node in nodes) == ["", "", "Leader"]


def test_database_volume_node_is_labelled_per_stack() -> None:
    for domain in DOMAINS:
        assert len(labelled_nodes(f"{stack_name(domain)}.db=true")) == 1


def ssh(user: str, host_ip: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ssh", "-i", f"{WORK}/id_ed25519", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
            *options, f"{user}@{host_ip}", "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip


@pytest.mark.parametrize("host", list(HOST_IPS))
def test_ssh_lets_in_the_deploy_user_by_key_only(host: str) -> None:
    assert ssh(DEPLOY_USER, HOST_IPS[host]).returncode == 0
    root = ssh("root", HOST_IPS[host])
    assert root.returncode != 0
    assert "Permission denied" in root.stderr
    password = ssh(DEPLOY_USER, HOST_IPS[host], "-o", "PubkeyAuthentication=no")
    assert password.returncode != 0
    assert "Permission denied (publickey)" in password.stderr


def port_open(host_ip: str, port: int) -> bool:
    try:
        with socket.create_connection((host_ip, port), timeout=3):
            return True
    except OSError:
        return False


def test_firewall_opens_ssh_http_https_to_all_and_swarm_to_nodes_only() -> None:
    # This machine is not one of the cluster's nodes.
    for port in (22, 80, 443):
        assert port_open(MANAGER_IP, port), port
    for port in (2377, 7946):
        assert not port_open(MANAGER_IP, port), port
    # Yet the nodes reach each other: the swarm works (above) and its manager
    # listens on 2377.
    namespace = f"/run/netns/{os.environ['DEPLOY_TEST_NS_PREFIX']}-{MANAGER}"
    listening = subprocess.run(
        ["nsenter", f"--net={namespace}", "ss", "-Hltn", "sport = :2377"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ":2377" in listening


def test_container_logs_are_rotated() -> None:
    with open(f"{WORK}/hosts/{MANAGER}/docker/daemon.json") as file:
        daemon = json.load(file)
    assert daemon["log-driver"] == "json-file"
    assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
    info = json.loads(docker(MANAGER, "info", "--format", "{{json .}}"))
    assert info["LoggingDriver"] == "json-file"


# --- failures ---------------------------------------------------------------------------------


def running_backend_tasks(domain: str) -> list[dict[str, str]]:
    out = docker(
        MANAGER, "service", "ps", f"{stack_name(domain)}_backend",
        "--filter", "desired-state=running", "--format", "{{json .}}",
    )  # fmt: skip
    return [json.loads(line) for line in out.splitlines() if '"Running' in line]


def node_host(node_id: str) -> str:
    """The test host a Swarm node runs on, by its address."""
    address = json.loads(docker(MANAGER, "node", "inspect", node_id))[0]["Status"]["Addr"]
    return next(host for host, ip in HOST_IPS.items() if ip == address)


def test_site_keeps_answering_when_a_backend_replica_dies() -> None:
    domain = DOMAINS[0]
    wait_for("two backend replicas running", lambda: len(running_backend_tasks(domain)) == 2)
    task_id = running_backend_tasks(domain)[0]["ID"]
    task = json.loads(docker(MANAGER, "inspect", "--type", "task", task_id))[0]
    task_id, host = task["ID"], node_host(task["NodeID"])
    task_label = f"label=com.docker.swarm.task.id={task_id}"
    container = docker(host, "ps", "-q", "--filter", task_label).strip()
    assert container, f"no container for task {task_id} on {host}"
    docker(host, "kill", container)

    # The site answers throughout, while Swarm replaces the replica.
    failures: list[str] = []
    deadline = time.monotonic() + 30
    count = 0
    while time.monotonic() < deadline:
        try:
            status = request(domain, "/api/v1/utils/health-check/", timeout=10).status
        except (OSError, http.client.HTTPException) as exc:
            failures.append(repr(exc))
        else:
            if status != 200:
                failures.append(str(status))
        count += 1
        time.sleep(0.5)
    assert not failures, f"{len(failures)} of {count} requests failed: {failures}"
    wait_for("the replica replaced", lambda: len(running_backend_tasks(domain)) == 2, timeout=180)


# --- worker modules ----------------------------------------------------------------------------


def api_token(domain: str) -> dict[str, str]:
    form = urllib.parse.urlencode(
        {"username": f"admin@{domain}", "password": SITES[domain]["password"]}
    ).encode()
    reply = request(
        domain,
        "/api/v1/login/access-token",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=form,
    )
    assert reply.status == 200, reply.body
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def running_tasks(service: str) -> list[dict[str, str]]:
    out = docker(
        MANAGER,
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{json .}}",
    )
    return [json.loads(line) for line in out.splitlines() if '"Running' in line]


def test_ml_jobs_run_on_the_labelled_node_and_never_on_the_default_worker() -> None:
    """The ml module runs only on the node labelled ml=true (the inventory's
    swarm_node_labels); with it stopped, an ML job waits in its queue, which the
    default worker (on every node) never takes; started again, it runs the job."""
    domain = DOMAINS[0]
    service = f"{stack_name(domain)}_worker-ml"
    [ml_node] = labelled_nodes("ml=true")
    wait_for("the ml worker running", lambda: running_tasks(service))
    assert {task["Node"] for task in running_tasks(service)} == {node_name(ml_node)}

    headers = api_token(domain) | {"Content-Type": "application/json"}
    body = {"kind": "ml.train_classifier", "params": {"dataset": "wine", "model": "random_forest"}}
    ml_host = node_host(ml_node)

    def ml_containers() -> list[str]:
        label = f"label=com.docker.swarm.service.name={service}"
        return docker(ml_host, "ps", "-q", "--filter", label).split()

    # The default worker runs (on every node): it could take the job, if it took the queue.
    assert running_tasks(f"{stack_name(domain)}_worker")
    docker(MANAGER, "service", "scale", "--detach", f"{service}=0")
    try:
        # Gone, not just told to go: a stopping worker may still take a message.
        wait_for("the ml worker's container gone", lambda: not ml_containers())
        created = request(
            domain, "/api/v1/jobs/", method="POST", headers=headers, body=json.dumps(body).encode()
        )
        assert created.status == 202, created.body
        job_path = f"/api/v1/jobs/{created.json()['id']}"
        time.sleep(5)
        assert request(domain, job_path, headers=headers).json()["state"] == "queued"
    finally:
        docker(MANAGER, "service", "scale", "--detach", f"{service}=1")
    job = wait_for(
        "the ML job finished",
        lambda: (
            (found := request(domain, job_path, headers=headers).json())["state"]
            in ("succeeded", "failed")
            and found
        ),
        timeout=180,
    )
    assert job["state"] == "succeeded", job
    assert job["result"]["accuracy"] > 0.8
    # It ran in the ml module's container on the labelled node (the container's
    # id is its host name, which the result gives).
    containers = ml_containers()
    assert job["result"]["host"] in containers, (job["result"]["host"], ml_host, containers)


def node_name(node_id: str) -> str:
    return docker(
        MANAGER, "node", "inspect", "--format", "{{.Description.Hostname}}", node_id
    ).strip()
