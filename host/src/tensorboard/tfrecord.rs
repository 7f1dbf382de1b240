//! TFRecord framing, the container of a TensorBoard event file: each record is
//!
//! | bytes    | field                                   |
//! |----------|-----------------------------------------|
//! | 8        | `length`, little-endian `u64`           |
//! | 4        | masked CRC-32C of those 8 bytes         |
//! | `length` | the data (here a serialised `Event`)    |
//! | 4        | masked CRC-32C of the data              |
//!
//! as tensorflow's `core/lib/io/record_writer.cc` writes it and `core/lib/hash/crc32c.h` defines the
//! mask (a rotation and an offset, so that a CRC of data holding CRCs is not degenerate).
//! [`frame`] writes a record, [`records`] reads them back, checking both CRCs.

use crc::{Crc, CRC_32_ISCSI};

/// CRC-32C (Castagnoli), the checksum of TFRecord.
const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// The offset tensorflow adds after rotating a CRC (`kMaskDelta` in `crc32c.h`).
const MASK_DELTA: u32 = 0xa282_ead8;

/// Bytes before the data: the length and its CRC.
const HEADER: usize = 8 + 4;
/// Bytes after the data: its CRC.
const FOOTER: usize = 4;

/// The masked CRC-32C of `bytes`: `((crc >> 15) | (crc << 17)) + 0xa282ead8`, wrapping.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    CRC32C
        .checksum(bytes)
        .rotate_right(15)
        .wrapping_add(MASK_DELTA)
}

/// `data` as one TFRecord.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(HEADER + data.len() + FOOTER);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc(data).to_le_bytes());
    record
}

/// A file that is not a sequence of good TFRecords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file ends inside the record that starts at this offset.
    #[error("the record at byte {0} is cut off")]
    Truncated(usize),
    /// The length of the record at this offset does not match its CRC.
    #[error("the length of the record at byte {0} fails its CRC")]
    BadLengthCrc(usize),
    /// The data of the record at this offset do not match their CRC.
    #[error("the data of the record at byte {0} fail their CRC")]
    BadDataCrc(usize),
}

/// The data of every record in `bytes`, in order.
pub fn records(bytes: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let header = rest.get(..HEADER).ok_or(Error::Truncated(at))?;
        let (length, length_crc) = header.split_at(8);
        if masked_crc(length).to_le_bytes() != length_crc {
            return Err(Error::BadLengthCrc(at));
        }
        let length = u64::from_le_bytes(length.try_into().map_err(|_| Error::Truncated(at))?);
        let length = usize::try_from(length).map_err(|_| Error::Truncated(at))?;
        let end = length
            .checked_add(HEADER + FOOTER)
            .filter(|&end| end <= rest.len())
            .ok_or(Error::Truncated(at))?;
        let (data, data_crc) = rest[HEADER..end].split_at(length);
        if masked_crc(data).to_le_bytes() != data_crc {
            return Err(Error::BadDataCrc(at));
        }
        out.push(data);
        at += end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CRC-32C's check value (of "123456789"), masked by tensorflow's definition; the same value
    /// as `masked_crc32c(b"123456789")` of TensorBoard's Python writer.
    #[test]
    fn the_masked_crc_is_tensorflows() {
        let crc: u32 = 0xE306_9283;
        assert_eq!(CRC32C.checksum(b"123456789"), crc);
        #[allow(clippy::manual_rotate)] // tensorflow's definition, as crc32c.h spells it
        let masked = ((crc >> 15) | (crc << 17)).wrapping_add(0xa282_ead8);
        assert_eq!(masked, 0xc78a_b0e5);
        assert_eq!(masked_crc(b"123456789"), masked);
    }

    /// The bytes TensorBoard's own `RecordWriter` (tensorboard.summary.writer.record_writer)
    /// writes for the record "brain.Event:2".
    #[test]
    fn frames_are_tensorboards_and_read_back() {
        let tensorboard = [
            0x0d, 0, 0, 0, 0, 0, 0, 0, 0x3c, 0x37, 0xb8, 0x34, b'b', b'r', b'a', b'i', b'n', b'.',
            b'E', b'v', b'e', b'n', b't', b':', b'2', 0xee, 0x01, 0x06, 0x7c,
        ];
        assert_eq!(frame(b"brain.Event:2"), tensorboard);
        assert_eq!(records(&tensorboard).unwrap(), [&b"brain.Event:2"[..]]);

        let two = [frame(b"one"), frame(b"")].concat();
        assert_eq!(records(&two).unwrap(), [&b"one"[..], &b""[..]]);
        let mut bad = two.clone();
        bad[HEADER] ^= 1;
        assert_eq!(records(&bad), Err(Error::BadDataCrc(0)));
        let mut bad = two.clone();
        bad[0] ^= 1;
        assert_eq!(records(&bad), Err(Error::BadLengthCrc(0)));
        assert_eq!(records(&two[..two.len() - 1]), Err(Error::Truncated(19)));
    }
}
