//! The fields an `unavailable` map may name, one enum per payload, so the JSON schemas list
//! the keys. Each serializes to exactly its key; variants are declared in the order of their
//! keys, so a `BTreeMap` keyed by them prints in the same order a string key did.

use schemars::JsonSchema;
use serde::Serialize;

/// A field of `show`'s process whose value is missing (`process.unavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub enum DetailField {
    #[serde(rename = "cgroup")]
    Cgroup,
    #[serde(rename = "cgroups")]
    Cgroups,
    #[serde(rename = "counts.fds")]
    CountsFds,
    #[serde(rename = "counts.fds_by_type")]
    CountsFdsByType,
    #[serde(rename = "counts.threads_by_state")]
    CountsThreadsByState,
    #[serde(rename = "cpu.affinity")]
    CpuAffinity,
    #[serde(rename = "cpu.nonvoluntary_ctxt_switches")]
    CpuNonvoluntaryCtxtSwitches,
    #[serde(rename = "cpu.voluntary_ctxt_switches")]
    CpuVoluntaryCtxtSwitches,
    #[serde(rename = "environment")]
    Environment,
    #[serde(rename = "identity.argv")]
    IdentityArgv,
    #[serde(rename = "identity.cwd")]
    IdentityCwd,
    #[serde(rename = "identity.exe")]
    IdentityExe,
    #[serde(rename = "identity.gids")]
    IdentityGids,
    #[serde(rename = "identity.name")]
    IdentityName,
    #[serde(rename = "identity.ns_pids")]
    IdentityNsPids,
    #[serde(rename = "identity.state")]
    IdentityState,
    #[serde(rename = "identity.uids")]
    IdentityUids,
    #[serde(rename = "identity.user")]
    IdentityUser,
    #[serde(rename = "limits")]
    Limits,
    #[serde(rename = "listening")]
    Listening,
    #[serde(rename = "memory.data_bytes")]
    MemoryDataBytes,
    #[serde(rename = "memory.pss_bytes")]
    MemoryPssBytes,
    #[serde(rename = "memory.rss_bytes")]
    MemoryRssBytes,
    #[serde(rename = "memory.stack_bytes")]
    MemoryStackBytes,
    #[serde(rename = "memory.swap_bytes")]
    MemorySwapBytes,
    #[serde(rename = "memory_map")]
    MemoryMap,
    #[serde(rename = "security.capabilities")]
    SecurityCapabilities,
    #[serde(rename = "security.groups")]
    SecurityGroups,
    #[serde(rename = "security.io_priority")]
    SecurityIoPriority,
    #[serde(rename = "security.lsm_label")]
    SecurityLsmLabel,
    #[serde(rename = "security.namespaces")]
    SecurityNamespaces,
    #[serde(rename = "security.no_new_privs")]
    SecurityNoNewPrivs,
    #[serde(rename = "security.oom_score")]
    SecurityOomScore,
    #[serde(rename = "security.oom_score_adj")]
    SecurityOomScoreAdj,
    #[serde(rename = "security.seccomp")]
    SecuritySeccomp,
}
