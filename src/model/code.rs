//! Where code and stacks are in a process's address space: plain serde value types shared by
//! the analyzers and the payloads. No I/O and no derivation happens here.

/// A thread's stack mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct StackMapping {
    pub start: u64,
    pub end: u64,
    pub size_bytes: u64,
    /// The size of the `---p` guard mapping directly below, 0 if there is none.
    pub guard_bytes: u64,
    /// True for the main thread's `[stack]` (it grows on demand up to RLIMIT_STACK).
    pub main: bool,
}

/// What kind of memory a program counter points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeRegion {
    /// A file mapping: a module (executable or library).
    File,
    /// Anonymous executable memory: JIT-compiled code.
    Jit,
    /// Anonymous memory that is not executable.
    Anon,
    Vdso,
    Stack,
    Heap,
    /// Another special mapping (`[vsyscall]`, `[uprobes]`...).
    Other,
    /// No mapping holds the address.
    Unmapped,
}

impl CodeRegion {
    /// `jit`, as in `[jit] 0x7f3b2a401000`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Jit => "jit",
            Self::Anon => "anon",
            Self::Vdso => "vdso",
            Self::Stack => "stack",
            Self::Heap => "heap",
            Self::Other => "other",
            Self::Unmapped => "unmapped",
        }
    }
}

impl std::fmt::Display for CodeRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a program counter points.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct CodeLocation {
    pub region: CodeRegion,
    /// The module's file name (`libc.so.6`) for file mappings.
    pub module: Option<String>,
    /// The function name, demangled when it is C++ or Rust.
    pub symbol: Option<String>,
    /// The offset from the symbol, else from the module's load base, else from the mapping.
    pub offset: u64,
    /// Present (true) when the module's file could not be proven to be the mapped one
    /// (another file or a link was put over its path): no symbol is read from it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
}

impl CodeLocation {
    /// `epoll_pwait+0x4e in libc.so.6`, `libnode.so.108+0x1234`, `[jit] 0x7f3b2a401000`,
    /// `libx.so+0x1234 unverified`.
    pub fn display(&self, pc: u64) -> String {
        match (&self.symbol, &self.module) {
            (Some(symbol), Some(module)) => format!("{symbol}+{:#x} in {module}", self.offset),
            (None, Some(module)) if self.unverified => {
                format!("{module}+{:#x} unverified", self.offset)
            }
            (None, Some(module)) => format!("{module}+{:#x}", self.offset),
            _ => format!("[{}] {pc:#x}", self.region),
        }
    }
}
