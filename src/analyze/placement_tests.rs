//! Placement on /proc/PID/cgroup fixtures of Docker, Kubernetes, Podman, LXC and systemd.

use super::*;
use crate::parse::cgroup::parse_cgroup;

const DOCKER_ID: &str = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";
const K8S_ID: &str = "9b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff0";
const POD_UID: &str = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const PODMAN_ID: &str = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";

macro_rules! fixture {
    ($name:literal) => {
        placement(&parse_cgroup(include_bytes!(concat!(
            "../../tests/fixtures/cgroup/",
            $name
        ))))
    };
}

fn container(placement: &Placement) -> &ContainerInfo {
    placement.container.as_ref().expect("a container")
}

#[test]
fn docker_cgroupfs_and_systemd_drivers() {
    for p in [
        fixture!("docker-cgroupfs-v2.txt"),
        fixture!("docker-systemd-v2.txt"),
        fixture!("docker-cgroupfs-v1.txt"),
    ] {
        let c = container(&p);
        assert_eq!(c.engine, Some(Engine::Docker));
        assert_eq!(c.id, DOCKER_ID);
        assert_eq!(c.orchestrator, None);
        assert_eq!(c.label(), "docker 3f4e5a6b7c8d");
    }
    let systemd = fixture!("docker-systemd-v2.txt");
    assert_eq!(
        systemd.unit.as_deref(),
        Some(format!("docker-{DOCKER_ID}.scope").as_str())
    );
    // Hybrid host: the unified line stays with the shim's service, v1 holds the container.
    let hybrid = fixture!("docker-cgroupfs-v1.txt");
    assert_eq!(hybrid.unit.as_deref(), Some("containerd.service"));
}

#[test]
fn kubernetes_cgroupfs_driver() {
    let v1 = fixture!("k8s-cgroupfs-v1.txt");
    let c = container(&v1);
    assert_eq!(c.engine, None);
    assert_eq!(c.id, K8S_ID);
    assert_eq!(c.orchestrator.as_deref(), Some("kubernetes"));
    assert_eq!(c.pod_uid.as_deref(), Some(POD_UID));
    assert_eq!(c.qos_class.as_deref(), Some("burstable"));
    assert_eq!(c.label(), "k8s 9b1c2d3e4f50");
    assert_eq!(v1.unit, None);
    let guaranteed = fixture!("k8s-cgroupfs-guaranteed-v2.txt");
    assert_eq!(
        container(&guaranteed).qos_class.as_deref(),
        Some("guaranteed")
    );
    assert_eq!(container(&guaranteed).pod_uid.as_deref(), Some(POD_UID));
}

#[test]
fn kubernetes_systemd_driver() {
    let containerd = fixture!("k8s-systemd-containerd-v2.txt");
    let c = container(&containerd);
    assert_eq!(c.engine, Some(Engine::Containerd));
    assert_eq!(c.id, K8S_ID);
    assert_eq!(c.pod_uid.as_deref(), Some(POD_UID));
    assert_eq!(c.qos_class.as_deref(), Some("besteffort"));
    assert_eq!(c.label(), "k8s/containerd 9b1c2d3e4f50");
    assert!(c.matches("k8s") && c.matches("containerd") && c.matches("9b1c2d3e"));
    assert!(!c.matches("docker") && !c.matches("9b1") && !c.matches("ffff0000"));
    let crio = fixture!("k8s-systemd-crio-v2.txt");
    assert_eq!(container(&crio).engine, Some(Engine::CriO));
    assert_eq!(container(&crio).qos_class.as_deref(), Some("burstable"));
}

#[test]
fn podman_rootful_rootless_and_its_monitor() {
    for p in [
        fixture!("podman-rootful-v2.txt"),
        fixture!("podman-rootless-v2.txt"),
    ] {
        let c = container(&p);
        assert_eq!(c.engine, Some(Engine::Podman));
        assert_eq!(c.id, PODMAN_ID);
    }
    assert_eq!(fixture!("podman-conmon-v2.txt").container, None);
    let rootless = fixture!("podman-rootless-v2.txt");
    assert_eq!(
        rootless.unit.as_deref(),
        Some(format!("libpod-{PODMAN_ID}.scope").as_str())
    );
}

#[test]
fn systemd_services_and_scopes() {
    let nginx = fixture!("systemd-service-v2.txt");
    assert_eq!(nginx.unit.as_deref(), Some("nginx.service"));
    assert_eq!(nginx.container, None);
    let postgres = fixture!("systemd-service-v1.txt");
    assert_eq!(postgres.unit.as_deref(), Some("postgresql@15-main.service"));
    let user = fixture!("systemd-user-scope-v2.txt");
    assert_eq!(user.unit.as_deref(), Some("vte-spawn-1b2c.scope"));
    assert_eq!(fixture!("init-v2.txt").unit.as_deref(), Some("init.scope"));
    assert_eq!(placement(&parse_cgroup(b"0::/\n")), Placement::default());
}

#[test]
fn lxc_payload_and_legacy() {
    let payload = fixture!("lxc-payload-v2.txt");
    assert_eq!(container(&payload).engine, Some(Engine::Lxc));
    assert_eq!(container(&payload).id, "web1");
    assert_eq!(container(&payload).label(), "lxc web1");
    assert_eq!(payload.unit.as_deref(), Some("cron.service"));
    let legacy = fixture!("lxc-v1.txt");
    assert_eq!(container(&legacy).id, "db2");
    assert!(container(&legacy).matches("db2") && container(&legacy).matches("lxc"));
}

#[test]
fn look_alikes_are_not_containers() {
    for path in [
        "/docker/notanid",
        "/system.slice/docker.service",
        "/system.slice/docker-short.scope",
        "/kubepods/burstable/pod0f1e",
        "/lxc.monitor.web1",
        &format!("/other/{DOCKER_ID}"),
    ] {
        assert_eq!(container_of(path), None, "{path}");
    }
    // Docker in Docker: the inner container.
    let inner = "aa".repeat(32);
    let nested = container_of(&format!("/docker/{DOCKER_ID}/docker/{inner}")).unwrap();
    assert_eq!(nested.id, inner);
}
