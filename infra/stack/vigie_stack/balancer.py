"""The load balancer in front of a service's instances: HAProxy, from Debian's packages.

When a stack runs several instances of each service, HAProxy takes each service's own port and
spreads the requests over the instances (the least busy first). It asks each instance
``/health/serving`` every half second: an instance that drains (``SIGTERM``) answers ``503`` and
is taken out before it stops accepting, so a rolling restart costs a client nothing.

A request that an instance could not answer (refused, or its connection closed with no
response: a crash, a keep-alive connection closed as the instance drains) is sent to another
instance, at most three times. A POST is sent again only when it names its ``Idempotency-Key``:
the intake answers a repeated key with the first answer, so that a retry of a request that did
take effect creates nothing twice; a POST without one may have taken effect, and is not retried.
"""

import shutil
import subprocess
import time

from .config import SERVICES, StackConfig
from .process import is_running, port_open, spawn, stop, wait_for

_CONFIG = """\
# Written by vigie-stack for the {name} stack: {instances} instances of each service.
global
    log stdout format raw local0 info
    maxconn 4096

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    timeout http-keep-alive 10s
    timeout queue 5s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response
    default-server inter 500ms fastinter 250ms downinter 1s rise 2 fall 1
"""

_SERVICE = """
frontend {service}
    bind 127.0.0.1:{port}
    default_backend {service}

backend {service}
    balance leastconn
    option httpchk GET /health/serving
    http-check expect status 200
    http-request disable-l7-retry if METH_POST !{{ req.hdr(idempotency-key) -m found }}
{servers}
"""


def haproxy() -> str:
    # Debian installs it in /usr/sbin, which a user's PATH may not hold.
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if found is None:
        raise RuntimeError("several instances need HAProxy in front of them; run infra/bin/setup")
    return found


class Balancer:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.home = config.state / "balancer"
        self.config_file = self.home / "haproxy.cfg"
        self.pid_file = config.state / "run" / "balancer.pid"
        self.log_file = config.logs / "balancer.log"

    def render(self) -> str:
        c = self.config
        text = _CONFIG.format(name=c.name, instances=c.instances)
        for service in SERVICES:
            servers = "\n".join(
                f"    server {service}-{n + 1} 127.0.0.1:{c.instance_port(service, n)} check"
                for n in range(c.instances)
            )
            text += _SERVICE.format(service=service, port=c.service_ports[service], servers=servers)
        return text

    def running(self) -> bool:
        return is_running(self.pid_file) is not None

    def start(self, *, timeout: float = 15.0) -> None:
        """Start HAProxy with the stack's shape (again, if the shape changed); nothing for a stack
        of one instance, whose services take their own ports."""
        if not self.config.balanced:
            self.stop()
            return
        wanted = self.render()
        if self.running() and self.config_file.is_file() and self.config_file.read_text() == wanted:
            return
        self.stop()
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(wanted)
        binary = haproxy()
        check = subprocess.run(  # noqa: S603 - our own file, checked before it is served
            [binary, "-c", "-q", "-f", str(self.config_file)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"HAProxy refuses {self.config_file}: {check.stdout}{check.stderr}")
        spawn([binary, "-db", "-f", str(self.config_file)], pid_file=self.pid_file, log_file=self.log_file)
        ports = [self.config.service_ports[s] for s in SERVICES]
        wait_for(lambda: all(port_open(p) for p in ports), timeout=timeout, what="HAProxy", log_file=self.log_file)
        time.sleep(0.1)

    def stop(self) -> bool:
        return stop(self.pid_file, timeout=10.0)
