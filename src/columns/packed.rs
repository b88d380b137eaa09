//! The cells of one listing row packed into one byte buffer: a 10000-process listing keeps
//! every row until it is sorted and printed, and a `Vec` of [`Value`]s (the largest
//! variant's size for every cell, and an allocation for each text) was most of `ps`'s memory. Numbers, texts, labels and plain
//! command lines are packed; rarer cells (unavailable ones, runtimes, containers, dated
//! numbers, command lines with a fallback or raw bytes) are kept as they are, in order.
//! Unpacking gives back the same values, bit for bit. Reads and judges nothing.

use crate::model::Unavailable;

use super::value::Value;

type Field<T> = Result<T, Unavailable>;

/// A kept cell: its value is the next one of [`PackedCells::kept`].
const KEPT: u8 = 0;
const INTEGER: u8 = 1;
const BYTES: u8 = 2;
const PERCENT: u8 = 3;
const CPU_SECONDS: u8 = 4;
const DURATION: u8 = 5;
const TIMESTAMP: u8 = 6;
const TEXT: u8 = 7;
const LABEL: u8 = 8;
const ABSENT: u8 = 9;
const EMPTY: u8 = 10;
/// Arguments without fallback or raw bytes: truncated flag, count, then each argument.
const ARGV: u8 = 11;

/// One row's cells, in column order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedCells {
    bytes: Box<[u8]>,
    kept: Box<[Field<Value>]>,
}

impl PackedCells {
    /// Packs the cells of one row.
    pub fn pack(cells: impl IntoIterator<Item = Field<Value>>) -> Self {
        let mut bytes = Vec::with_capacity(128);
        let mut kept = Vec::new();
        for cell in cells {
            if !pack_cell(&mut bytes, &cell) {
                bytes.push(KEPT);
                kept.push(cell);
            }
        }
        Self {
            bytes: bytes.into_boxed_slice(),
            kept: kept.into_boxed_slice(),
        }
    }

    /// The cells, unpacked one by one.
    pub fn iter(&self) -> impl Iterator<Item = Field<Value>> + '_ {
        let mut reader = Reader::new(self);
        std::iter::from_fn(move || reader.next(true))
    }

    /// The cell at `index`, unpacked (the cells before it are skipped, not unpacked).
    pub fn get(&self, index: usize) -> Option<Field<Value>> {
        let mut reader = Reader::new(self);
        for _ in 0..index {
            let _skipped = reader.next(false)?;
        }
        reader.next(true)
    }

    /// The unavailable cells: their column index and reason (nothing else is unpacked).
    pub fn reasons(&self) -> impl Iterator<Item = (usize, Unavailable)> + '_ {
        let mut reader = Reader::new(self);
        std::iter::from_fn(move || reader.next(false))
            .enumerate()
            .filter_map(|(index, cell)| cell.err().map(|why| (index, why)))
    }

    /// Changes the cell at `index` (the row is packed again).
    pub fn update(&mut self, index: usize, change: impl FnOnce(&mut Field<Value>)) {
        let mut cells: Vec<Field<Value>> = self.iter().collect();
        if let Some(cell) = cells.get_mut(index) {
            change(cell);
            *self = Self::pack(cells);
        }
    }
}

/// Packs `cell` into `bytes`; false when it is to be kept as it is.
fn pack_cell(bytes: &mut Vec<u8>, cell: &Field<Value>) -> bool {
    let Ok(value) = cell else { return false };
    match value {
        Value::Integer(n) => put_number(bytes, INTEGER, n.to_le_bytes()),
        Value::Bytes(n) => put_number(bytes, BYTES, n.to_le_bytes()),
        Value::Percent(x) => put_number(bytes, PERCENT, x.to_le_bytes()),
        Value::CpuSeconds(x) => put_number(bytes, CPU_SECONDS, x.to_le_bytes()),
        Value::Duration(x) => put_number(bytes, DURATION, x.to_le_bytes()),
        Value::Timestamp(x) => put_number(bytes, TIMESTAMP, x.to_le_bytes()),
        Value::Text(text) => {
            bytes.push(TEXT);
            put_bytes(bytes, text);
        }
        Value::Label(text) => {
            bytes.push(LABEL);
            put_bytes(bytes, text.as_bytes());
        }
        Value::Absent => bytes.push(ABSENT),
        Value::Empty => bytes.push(EMPTY),
        Value::Argv {
            argv,
            fallback: None,
            truncated,
            raw: None,
        } => {
            bytes.push(ARGV);
            bytes.push(u8::from(*truncated));
            put_length(bytes, argv.len());
            for arg in argv {
                put_bytes(bytes, arg);
            }
        }
        _ => return false,
    }
    true
}

fn put_number(bytes: &mut Vec<u8>, tag: u8, number: [u8; 8]) {
    bytes.push(tag);
    bytes.extend_from_slice(&number);
}

fn put_length(bytes: &mut Vec<u8>, length: usize) {
    // A cell never holds 4 GiB (command lines are cut at 256 KiB).
    bytes.extend_from_slice(&(length as u32).to_le_bytes());
}

fn put_bytes(bytes: &mut Vec<u8>, piece: &[u8]) {
    put_length(bytes, piece.len());
    bytes.extend_from_slice(piece);
}

/// Walks the packed cells in order.
struct Reader<'a> {
    bytes: &'a [u8],
    kept: std::slice::Iter<'a, Field<Value>>,
}

impl<'a> Reader<'a> {
    fn new(cells: &'a PackedCells) -> Self {
        Self {
            bytes: &cells.bytes,
            kept: cells.kept.iter(),
        }
    }

    /// The next cell, or `None` at the end. Without `decode` the cell is only skipped (and
    /// nothing is allocated): an available cell's value is then not its own, an unavailable
    /// cell's reason is.
    fn next(&mut self, decode: bool) -> Option<Field<Value>> {
        let (&tag, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        let value = match tag {
            KEPT => {
                return self.kept.next().map(|cell| match cell {
                    Err(why) => Err(*why),
                    Ok(value) if decode => Ok(value.clone()),
                    Ok(_) => Ok(Value::Empty),
                });
            }
            INTEGER => Value::Integer(i64::from_le_bytes(self.number())),
            BYTES => Value::Bytes(u64::from_le_bytes(self.number())),
            PERCENT => Value::Percent(f64::from_le_bytes(self.number())),
            CPU_SECONDS => Value::CpuSeconds(f64::from_le_bytes(self.number())),
            DURATION => Value::Duration(f64::from_le_bytes(self.number())),
            TIMESTAMP => Value::Timestamp(f64::from_le_bytes(self.number())),
            TEXT | LABEL if !decode => {
                self.piece();
                Value::Empty
            }
            TEXT => Value::Text(self.piece().to_vec()),
            LABEL => Value::Label(String::from_utf8_lossy(self.piece()).into_owned()),
            ABSENT => Value::Absent,
            EMPTY => Value::Empty,
            _ => self.argv(decode),
        };
        Some(Ok(value))
    }

    fn number(&mut self) -> [u8; 8] {
        let (number, rest) = self.bytes.split_at(8);
        self.bytes = rest;
        number.try_into().unwrap_or_default()
    }

    fn length(&mut self) -> usize {
        let (length, rest) = self.bytes.split_at(4);
        self.bytes = rest;
        u32::from_le_bytes(length.try_into().unwrap_or_default()) as usize
    }

    fn piece(&mut self) -> &'a [u8] {
        let length = self.length();
        let (piece, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        piece
    }

    fn argv(&mut self, decode: bool) -> Value {
        let truncated = self.bytes[0] != 0;
        self.bytes = &self.bytes[1..];
        let count = self.length();
        let mut argv = Vec::with_capacity(if decode { count } else { 0 });
        for _ in 0..count {
            let arg = self.piece();
            if decode {
                argv.push(arg.to_vec());
            }
        }
        Value::Argv {
            argv,
            fallback: None,
            truncated,
            raw: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_unpack_to_the_values_packed() {
        let cells = vec![
            Ok(Value::Integer(-7)),
            Ok(Value::Bytes(u64::MAX)),
            Ok(Value::Percent(1.0 / 3.0)),
            Ok(Value::CpuSeconds(f64::NAN)),
            Ok(Value::Duration(0.5)),
            Ok(Value::Timestamp(1.7e9)),
            Ok(Value::Text(b"n\xffme".to_vec())),
            Ok(Value::Label("root".into())),
            Ok(Value::Absent),
            Err(Unavailable::PermissionDenied),
            Ok(Value::Empty),
            Ok(Value::Argv {
                argv: [b"sleep".to_vec(), Vec::new(), b"1\n".to_vec()].into(),
                fallback: None,
                truncated: true,
                raw: None,
            }),
            Ok(Value::Argv {
                argv: Vec::new(),
                fallback: Some("[kthreadd]".into()),
                truncated: false,
                raw: None,
            }),
            Ok(Value::Number {
                value: 61.0,
                text: "01:01".into(),
            }),
        ];
        let packed = PackedCells::pack(cells.clone());
        let unpacked: Vec<Field<Value>> = packed.iter().collect();
        assert_eq!(format!("{unpacked:?}"), format!("{cells:?}"));
        for (index, cell) in cells.iter().enumerate() {
            assert_eq!(
                format!("{:?}", packed.get(index)),
                format!("{:?}", Some(cell))
            );
        }
        assert!(packed.get(cells.len()).is_none());
        let reasons: Vec<_> = packed.reasons().collect();
        assert_eq!(reasons, [(9, Unavailable::PermissionDenied)]);
    }

    #[test]
    fn an_updated_cell_is_kept_and_the_others_stay() {
        let mut packed = PackedCells::pack([Ok(Value::Integer(1)), Ok(Value::Empty)]);
        packed.update(1, |cell| *cell = Ok(Value::Label("x".into())));
        let cells: Vec<Field<Value>> = packed.iter().collect();
        assert_eq!(cells, [Ok(Value::Integer(1)), Ok(Value::Label("x".into()))]);
    }
}
