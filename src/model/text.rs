//! Byte strings from the kernel (names, argv, paths) and their lossless JSON form.

use base64::Engine;

/// The JSON form of a byte string: the UTF-8 text (lossy when the bytes are not UTF-8) and,
/// only when they are not, the exact bytes in standard base64.
pub fn lossless(bytes: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(_) => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    }
}

/// Like [`lossless`] for a list of byte strings (argv): the base64 list is present when any
/// element is not UTF-8, and then holds every element.
pub fn lossless_list(items: &[Vec<u8>]) -> (Vec<String>, Option<Vec<String>>) {
    let texts = items
        .iter()
        .map(|item| String::from_utf8_lossy(item).into_owned())
        .collect();
    let exact = items
        .iter()
        .any(|item| std::str::from_utf8(item).is_err())
        .then(|| {
            items
                .iter()
                .map(|item| base64::engine::general_purpose::STANDARD.encode(item))
                .collect()
        });
    (texts, exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_has_no_base64() {
        assert_eq!(lossless(b"a) R 1 (b"), ("a) R 1 (b".to_owned(), None));
    }

    #[test]
    fn invalid_utf8_keeps_exact_bytes() {
        let (text, exact) = lossless(b"x\xffy");
        assert_eq!(text, "x\u{fffd}y");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(exact.unwrap())
            .unwrap();
        assert_eq!(decoded, b"x\xffy");
    }

    #[test]
    fn list_encodes_all_when_one_is_invalid() {
        let (texts, exact) = lossless_list(&[b"ok".to_vec(), b"\xfe".to_vec()]);
        assert_eq!(texts, vec!["ok".to_owned(), "\u{fffd}".to_owned()]);
        assert_eq!(exact.unwrap(), vec!["b2s=".to_owned(), "/g==".to_owned()]);
    }
}
