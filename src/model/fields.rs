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

/// A field of a `threads` row whose value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadField {
    CpuPercent,
    LastCpu,
    Name,
    NonvoluntaryCtxtSwitches,
    Pc,
    PcLocation,
    Sp,
    Stack,
    State,
    Syscall,
    SystemSeconds,
    UserSeconds,
    VoluntaryCtxtSwitches,
    Wait,
}

/// A field of an `fds` row whose value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FdField {
    Flags,
    Mode,
    Pos,
    Target,
}

/// A field of a `ports` row whose value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketField {
    // The processes holding the socket (their descriptor tables were denied).
    Holders,
}

/// A field of a `who` holder whose value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderField {
    Mode,
    Offset,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key each field serializes to.
    fn key<T: Serialize>(field: T) -> String {
        serde_json::to_value(field)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A map keyed by an enum sorts by variant: that must be the order of the keys, so JSON
    /// objects print in the order string keys gave them.
    fn in_key_order<T: Serialize + Ord + Copy>(fields: &[T]) {
        let keys: Vec<String> = fields.iter().map(|f| key(*f)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let mut by_variant = fields.to_vec();
        by_variant.sort();
        assert_eq!(by_variant.iter().map(|f| key(*f)).collect::<Vec<_>>(), keys);
    }

    #[test]
    fn keys_are_the_json_keys_in_order() {
        use DetailField::*;
        in_key_order(&[
            Cgroup,
            Cgroups,
            CountsFds,
            CountsFdsByType,
            CpuAffinity,
            IdentityExe,
            IdentityState,
            MemorySwapBytes,
            MemoryMap,
            SecurityOomScore,
            SecurityOomScoreAdj,
            SecuritySeccomp,
        ]);
        assert_eq!(key(IdentityNsPids), "identity.ns_pids");
        assert_eq!(key(MemoryMap), "memory_map");
        use ThreadField::*;
        in_key_order(&[
            CpuPercent,
            Pc,
            PcLocation,
            Sp,
            Stack,
            State,
            Syscall,
            SystemSeconds,
            Wait,
        ]);
        assert_eq!(key(NonvoluntaryCtxtSwitches), "nonvoluntary_ctxt_switches");
        in_key_order(&[FdField::Flags, FdField::Mode, FdField::Pos, FdField::Target]);
        in_key_order(&[HolderField::Mode, HolderField::Offset]);
        assert_eq!(key(SocketField::Holders), "holders");
    }
}
