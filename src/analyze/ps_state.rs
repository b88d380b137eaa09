//! The STAT code of `ps` (state letter plus BSD modifiers), from stat fields. Pure.

use crate::parse::stat::Stat;

/// `Ss`, `Sl+`, `I<`, `SN`, `SLl`...: the state letter, then, in procps's order, `<` (nice
/// below 0), `N` (nice above 0), `L` (pages locked in memory), `s` (session leader), `l`
/// (multi-threaded) and `+` (in the terminal's foreground process group). `tgid` is the
/// process ID (a thread row shows its process's modifiers, as `ps -L` does).
pub fn ps_stat(stat: &Stat, tgid: u32, locked_kib: u64) -> String {
    let mut code = String::from(char::from(stat.state));
    if stat.nice < 0 {
        code.push('<');
    }
    if stat.nice > 0 {
        code.push('N');
    }
    if locked_kib > 0 {
        code.push('L');
    }
    if i64::from(stat.session) == i64::from(tgid) {
        code.push('s');
    }
    if stat.num_threads > 1 {
        code.push('l');
    }
    if stat.tpgid != -1 && stat.tpgid == stat.pgrp {
        code.push('+');
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::stat::parse_stat;

    fn stat(line: &str) -> Stat {
        parse_stat(line.as_bytes()).unwrap()
    }

    #[test]
    fn modifiers_in_procps_order() {
        // pid (comm) state ppid pgrp session tty tpgid flags, 8 counters, priority nice
        // threads itrealvalue starttime vsize rss
        let bash = stat("100 (bash) S 1 100 100 34816 120 4194304 0 0 0 0 0 0 0 0 20 0 1 0 5 6 7");
        assert_eq!(ps_stat(&bash, 100, 0), "Ss");
        let fg = stat("120 (sleep) S 100 120 100 34816 120 4194304 0 0 0 0 0 0 0 0 25 5 3 0 5 6 7");
        assert_eq!(ps_stat(&fg, 120, 0), "SNl+");
        assert_eq!(ps_stat(&fg, 120, 8), "SNLl+");
        let kworker =
            stat("7 (kworker/0:0H) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 5 6 7");
        assert_eq!(ps_stat(&kworker, 7, 0), "I<");
    }
}
