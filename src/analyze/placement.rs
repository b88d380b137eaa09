//! Where a process runs, derived from its cgroup lines: the systemd unit (service or scope)
//! and the container (Docker, containerd/Kubernetes, CRI-O, Podman, LXC). Pure: it reads
//! nothing, it only recognises documented path patterns.
//!
//! Patterns (the deepest matching path component wins, so nested containers name the inner):
//! - Docker, cgroupfs driver: `/docker/<64 hex>`; systemd driver: `docker-<64 hex>.scope`.
//! - Kubernetes, cgroupfs driver: `/kubepods[/burstable|/besteffort]/pod<uid>/<64 hex>` (the
//!   engine is not in the path), or `.../crio-<64 hex>`; systemd driver:
//!   `kubepods[-<qos>]-pod<uid with _>.slice/{cri-containerd,crio,docker}-<64 hex>.scope`.
//! - Podman: `libpod-<64 hex>.scope` (systemd) or `/libpod_parent/libpod-<64 hex>` (cgroupfs);
//!   `libpod-conmon-*` is Podman's monitor, not the container.
//! - LXC / LXD: `lxc.payload.<name>` (LXC 4+) or `/lxc/<name>`; `lxc.monitor.*` is not inside.

use schemars::JsonSchema;
use serde::Serialize;

use crate::parse::cgroup::CgroupLine;

/// The container engine named by the cgroup path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    Docker,
    Containerd,
    CriO,
    Podman,
    Lxc,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Containerd => "containerd",
            Self::CriO => "cri-o",
            Self::Podman => "podman",
            Self::Lxc => "lxc",
        }
    }
}

/// A container a process runs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ContainerInfo {
    /// The engine, when the path names it (a Kubernetes cgroupfs path does not).
    pub engine: Option<Engine>,
    /// The full container ID (64 hex digits), or the container name for LXC.
    pub id: String,
    /// `kubernetes` when the container belongs to a pod.
    pub orchestrator: Option<String>,
    /// The pod's UID (with dashes) for a Kubernetes container.
    pub pod_uid: Option<String>,
    /// The pod's QoS class: `guaranteed`, `burstable` or `besteffort`.
    pub qos_class: Option<String>,
}

impl ContainerInfo {
    /// The table text: engine (or `k8s`) and the ID cut to 12 digits like `docker ps`.
    pub fn label(&self) -> String {
        let mut kind = String::new();
        if self.orchestrator.is_some() {
            kind.push_str("k8s");
        }
        if let Some(engine) = self.engine {
            if !kind.is_empty() {
                kind.push('/');
            }
            kind.push_str(engine.as_str());
        }
        format!("{kind} {}", short_id(&self.id))
    }

    /// True when `wanted` names this container: an ID prefix (at least 4 characters), the
    /// LXC name, the engine (`docker`), or `kubernetes`/`k8s` for any pod's container.
    pub fn matches(&self, wanted: &str) -> bool {
        let engine = self.engine.map(Engine::as_str);
        let kubernetes = self.orchestrator.is_some() && matches!(wanted, "kubernetes" | "k8s");
        kubernetes
            || engine == Some(wanted)
            || self.id == wanted
            || (wanted.len() >= 4 && is_hex(wanted) && self.id.starts_with(wanted))
    }
}

/// What the cgroup lines say about a process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// The innermost systemd service or scope (`nginx.service`, `session-2.scope`).
    pub unit: Option<String>,
    pub container: Option<ContainerInfo>,
}

/// The unit and container from every line of `/proc/PID/cgroup`.
pub fn placement(lines: &[CgroupLine]) -> Placement {
    let paths = systemd_paths(lines);
    let unit = paths.iter().find_map(|path| unit_of(path));
    let container = paths
        .iter()
        .copied()
        .chain(lines.iter().map(|line| &line.path))
        .find_map(|path| container_of(path));
    Placement { unit, container }
}

/// The paths systemd manages: the v2 path, else the v1 `name=systemd` one.
fn systemd_paths(lines: &[CgroupLine]) -> Vec<&String> {
    let unified = lines
        .iter()
        .filter(|line| line.hierarchy == 0 && line.path != "/");
    let named = lines
        .iter()
        .filter(|line| line.controllers.iter().any(|c| c == "name=systemd"));
    unified.chain(named).map(|line| &line.path).collect()
}

/// The innermost `.service` or `.scope` component.
pub fn unit_of(path: &str) -> Option<String> {
    path.split('/')
        .rev()
        .find(|part| part.ends_with(".service") || part.ends_with(".scope"))
        .map(str::to_owned)
}

/// The container a cgroup path places a process in.
pub fn container_of(path: &str) -> Option<ContainerInfo> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let in_kubepods = parts.iter().any(|p| p.starts_with("kubepods"));
    for (index, part) in parts.iter().enumerate().rev() {
        let parent = index.checked_sub(1).map(|i| parts[i]);
        let Some((engine, id)) = engine_and_id(part, parent) else {
            continue;
        };
        let mut info = ContainerInfo {
            engine,
            id,
            orchestrator: None,
            pod_uid: None,
            qos_class: None,
        };
        if in_kubepods {
            info.orchestrator = Some("kubernetes".to_owned());
            info.pod_uid = parts[..index].iter().rev().find_map(|p| pod_uid(p));
            info.qos_class = Some(qos_class(&parts[..index]).to_owned());
        }
        return Some(info);
    }
    None
}

/// Recognises one path component as a container (given its parent component).
fn engine_and_id(part: &str, parent: Option<&str>) -> Option<(Option<Engine>, String)> {
    const SCOPES: &[(&str, Engine)] = &[
        ("docker-", Engine::Docker),
        ("cri-containerd-", Engine::Containerd),
        ("crio-", Engine::CriO),
        ("libpod-", Engine::Podman),
    ];
    let bare = part.strip_suffix(".scope").unwrap_or(part);
    for (prefix, engine) in SCOPES {
        if let Some(id) = bare.strip_prefix(prefix)
            && is_container_id(id)
        {
            return Some((Some(*engine), id.to_owned()));
        }
    }
    if let Some(name) = part.strip_prefix("lxc.payload.").filter(|n| !n.is_empty()) {
        return Some((Some(Engine::Lxc), name.to_owned()));
    }
    match parent {
        Some("lxc") => Some((Some(Engine::Lxc), part.to_owned())),
        Some("docker") if is_container_id(part) => Some((Some(Engine::Docker), part.to_owned())),
        Some(pod) if pod.starts_with("pod") && is_container_id(part) => {
            Some((None, part.to_owned()))
        }
        _ => None,
    }
}

/// The pod UID of a `pod<uid>` (cgroupfs) or `kubepods-<qos>-pod<uid_>.slice` component.
fn pod_uid(part: &str) -> Option<String> {
    let bare = part.strip_suffix(".slice").unwrap_or(part);
    let uid = bare.rsplit_once("-pod").map_or_else(
        || bare.strip_prefix("pod"),
        |(_, uid)| Some(uid).filter(|_| bare.starts_with("kubepods")),
    )?;
    let uid = uid.replace('_', "-");
    (uid.len() >= 32 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(uid)
}

/// `burstable` or `besteffort` when a component names it, else `guaranteed`.
fn qos_class(parts: &[&str]) -> &'static str {
    for class in ["burstable", "besteffort"] {
        if parts
            .iter()
            .any(|p| *p == class || p.starts_with(&format!("kubepods-{class}")))
        {
            return class;
        }
    }
    "guaranteed"
}

fn is_container_id(text: &str) -> bool {
    text.len() == 64 && is_hex(text)
}

fn is_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The first 12 characters of a hex ID; a name (LXC) is kept whole.
pub fn short_id(id: &str) -> &str {
    if is_container_id(id) { &id[..12] } else { id }
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
