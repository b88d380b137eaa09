//! The signal a request names: the standard signal table and parsing `TERM`, `SIGKILL`, `9`.
//! Pure: sending happens in `crate::signal`.

/// The standard signals by number and name, for parsing and `--list-signals`.
pub const SIGNALS: &[(i32, &str, &str)] = &[
    (1, "HUP", "hangup; many daemons reload their configuration"),
    (2, "INT", "interrupt, as Ctrl-C"),
    (3, "QUIT", "quit and dump core"),
    (4, "ILL", "illegal instruction"),
    (5, "TRAP", "trace trap"),
    (6, "ABRT", "abort and dump core"),
    (7, "BUS", "bus error"),
    (8, "FPE", "arithmetic error"),
    (9, "KILL", "kill; cannot be caught or ignored"),
    (10, "USR1", "user-defined 1 (Node.js opens its debugger!)"),
    (11, "SEGV", "invalid memory reference"),
    (12, "USR2", "user-defined 2"),
    (13, "PIPE", "broken pipe"),
    (14, "ALRM", "timer"),
    (
        15,
        "TERM",
        "terminate (the default); can be caught for a clean shutdown",
    ),
    (16, "STKFLT", "stack fault"),
    (17, "CHLD", "child stopped or exited"),
    (18, "CONT", "continue if stopped"),
    (19, "STOP", "stop; cannot be caught or ignored"),
    (20, "TSTP", "stop from the terminal, as Ctrl-Z"),
    (21, "TTIN", "background read from the terminal"),
    (22, "TTOU", "background write to the terminal"),
    (23, "URG", "urgent socket data"),
    (24, "XCPU", "CPU time limit exceeded"),
    (25, "XFSZ", "file size limit exceeded"),
    (26, "VTALRM", "virtual timer"),
    (27, "PROF", "profiling timer"),
    (28, "WINCH", "terminal window size changed"),
    (29, "IO", "I/O possible"),
    (30, "PWR", "power failure"),
    (31, "SYS", "bad system call"),
];

/// A signal chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalChoice {
    pub number: i32,
    pub name: &'static str,
}

impl SignalChoice {
    pub const TERM: SignalChoice = SignalChoice {
        number: 15,
        name: "TERM",
    };
    pub const KILL: SignalChoice = SignalChoice {
        number: 9,
        name: "KILL",
    };

    /// `SIGTERM`.
    pub fn full_name(self) -> String {
        format!("SIG{}", self.name)
    }
}

/// Parses `TERM`, `SIGTERM`, `term`, `15`.
pub fn parse_signal(text: &str) -> Result<SignalChoice, String> {
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let found = match bare.parse::<i32>() {
        Ok(number) => SIGNALS.iter().find(|(n, _, _)| *n == number),
        Err(_) => SIGNALS.iter().find(|(_, name, _)| *name == bare),
    };
    found
        .map(|&(number, name, _)| SignalChoice { number, name })
        .ok_or_else(|| format!("'{text}' is not a signal: expected a name like TERM, SIGKILL or HUP, or a number from 1 to 31 (see --list-signals)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_and_numbers() {
        for text in ["TERM", "SIGTERM", "term", "sigTerm", "15"] {
            assert_eq!(parse_signal(text), Ok(SignalChoice::TERM), "{text}");
        }
        assert_eq!(parse_signal("9"), Ok(SignalChoice::KILL));
        assert_eq!(parse_signal("hup").unwrap().number, 1);
        for bad in ["", "0", "-1", "32", "65", "SIGFOO", "TERMX", "1e1"] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
        assert!(parse_signal("FOO").unwrap_err().contains("'FOO'"));
    }
}
