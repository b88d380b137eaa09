//! Hostile input as property tests: every /proc parser on arbitrary bytes returns a value or
//! an error and never panics; names and paths with any byte survive JSON exactly and never
//! reach a table with a control character.

use base64::Engine;
use proptest::prelude::*;

use procscope::model::text::{lossless, lossless_list};
use procscope::parse;
use procscope::text::escape::{Escaped, is_hidden};

/// Arbitrary bytes, biased towards the characters /proc formats are made of.
fn proc_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(
            prop_oneof![
                Just(b' '),
                Just(b'\n'),
                Just(b'('),
                Just(b')'),
                Just(b':'),
                Just(b'-'),
                Just(b'\t'),
                Just(0u8),
                0x30u8..0x3a,
                0x61u8..0x67,
                any::<u8>()
            ],
            0..512
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(raw in proc_bytes()) {
        let _ = parse::stat::parse_stat(&raw);
        let keyed = parse::keyed::Keyed::new(raw.clone());
        let _ = (keyed.number("Pid"), keyed.numbers("Uid"), keyed.kib_as_bytes("VmRSS"), keyed.text("Name"));
        let _ = parse::keyed::unescape_status_name(&raw);
        let _ = parse::maps::parse_maps(&raw);
        let _ = parse::smaps::parse_smaps(&raw);
        let _ = parse::smaps::parse_rollup(&raw);
        for line in raw.split(|&b| b == b'\n') {
            let _ = parse::net::parse_inet(line, false);
            let _ = parse::net::parse_inet(line, true);
            let _ = parse::net::parse_unix(line);
            let _ = parse::net::parse_netlink(line);
        }
        let _ = parse::fdinfo::parse_fdinfo(&raw);
        let _ = parse::syscall::parse_syscall(&raw);
        let _ = parse::taskstats::parse_taskstats(&raw);
        let _ = parse::cmdline::parse_cmdline(&raw);
        let _ = parse::limits::parse_limits(&raw);
        let _ = procscope::collect::system::parse_uptime(&raw);
        let _ = procscope::collect::system::parse_btime(&raw);
    }

    #[test]
    fn stat_keeps_any_name(name in proptest::collection::vec(any::<u8>(), 0..64), state in prop::sample::select(vec![b'R', b'S', b'D', b'Z', b'T', b'I'])) {
        let mut line = b"4242 (".to_vec();
        line.extend_from_slice(&name);
        line.extend_from_slice(b") ");
        line.push(state);
        line.extend_from_slice(b" 1 4242 4242 0 -1 4194304 0 0 0 0 1 2 0 0 20 0 1 0 100 4096 10");
        let stat = parse::stat::parse_stat(&line).unwrap();
        prop_assert_eq!(stat.pid, 4242);
        prop_assert_eq!(stat.comm, name);
        prop_assert_eq!(stat.state, state);
        prop_assert_eq!(stat.ppid, 1);
    }

    #[test]
    fn bytes_round_trip_through_json(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let (text, exact) = lossless(&bytes);
        let json = serde_json::json!({"name": text, "name_b64": exact});
        let parsed: serde_json::Value = serde_json::from_str(&json.to_string()).unwrap();
        let back = match parsed["name_b64"].as_str() {
            Some(b64) => base64::engine::general_purpose::STANDARD.decode(b64).unwrap(),
            None => parsed["name"].as_str().unwrap().as_bytes().to_vec(),
        };
        prop_assert_eq!(back, bytes);
    }

    #[test]
    fn argv_round_trips_through_json(argv in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..32), 0..8)) {
        let (texts, exact) = lossless_list(&argv);
        let back: Vec<Vec<u8>> = match exact {
            Some(list) => list.iter().map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap()).collect(),
            None => texts.iter().map(|t| t.as_bytes().to_vec()).collect(),
        };
        prop_assert_eq!(back, argv);
    }

    #[test]
    fn tables_never_get_control_bytes(bytes in hostile_bytes()) {
        let shown = Escaped::bytes(&bytes).into_string();
        prop_assert!(
            shown.chars().all(|c| !c.is_control() && !is_hidden(c) && !is_invisible(c)),
            "{:?}",
            shown
        );
        prop_assert_eq!(unescape(&shown), bytes);
    }
}

/// Arbitrary bytes, and UTF-8 text mixing letters with controls, C1, bidi, zero-width and
/// separator code points and backslash escapes written literally.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let hostile_char = prop_oneof![
        any::<char>(),
        Just('\\'),
        Just('\u{1b}'),
        Just('\n'),
        Just('\u{85}'),
        Just('\u{9b}'),
        Just('\u{7f}'),
        (0x202au32..=0x202e).prop_map(|c| char::from_u32(c).unwrap()),
        (0x2066u32..=0x2069).prop_map(|c| char::from_u32(c).unwrap()),
        (0x200bu32..=0x200d).prop_map(|c| char::from_u32(c).unwrap()),
        Just('\u{2060}'),
        Just('\u{feff}'),
        Just('\u{2028}'),
        Just('\u{2029}'),
        Just('n'),
        Just('x'),
        Just('e'),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        proptest::collection::vec(hostile_char, 0..64)
            .prop_map(|chars| chars.into_iter().collect::<String>().into_bytes()),
    ]
}

/// The code points the escape promises never to print (issue 12's list).
fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200b..=0x200d | 0x2060 | 0xfeff | 0x2028 | 0x2029)
}

/// Undoes the escape, proving it loses nothing: two inputs never print the same.
fn unescape(shown: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = shown;
    while let Some(ch) = rest.chars().next() {
        rest = &rest[ch.len_utf8()..];
        if ch != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let kind = rest.chars().next().expect("dangling backslash");
        rest = &rest[1..];
        match kind {
            '\\' => out.push(b'\\'),
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            'e' => out.push(0x1b),
            'x' => {
                out.push(u8::from_str_radix(&rest[..2], 16).unwrap());
                rest = &rest[2..];
            }
            'u' => {
                let end = rest.find('}').unwrap();
                let code = u32::from_str_radix(&rest[1..end], 16).unwrap();
                let mut buf = [0u8; 4];
                out.extend_from_slice(
                    char::from_u32(code)
                        .unwrap()
                        .encode_utf8(&mut buf)
                        .as_bytes(),
                );
                rest = &rest[end + 1..];
            }
            other => panic!("unknown escape \\{other}"),
        }
    }
    out
}
