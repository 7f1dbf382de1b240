//! Serial frames: one JSON text per line, sealed with its CRC-32.
//!
//! ```text
//! {"epoch":1,"train_loss":2.038766,...}*af5ba938\n
//! ```
//!
//! The trailer is `*`, then the CRC-32 of the JSON text's bytes — IEEE 802.3, reflected, polynomial
//! `0xEDB88320`, initial value and final XOR `0xFFFFFFFF`: zlib's `crc32` — as 8 lowercase hex
//! digits, then `\n`. The JSON text never contains a raw newline, so a line is a frame; a line whose
//! CRC does not match was damaged on the wire and is dropped by the reader.

/// The byte a host sends when it opens the serial port: a firmware built with the `handshake`
/// feature waits for it (skipping any other byte) before it starts training, so that nothing is
/// sent before the host listens (QEMU's `-serial pty` drops what nobody reads).
pub const HANDSHAKE_START: u8 = b'S';

/// The byte a host sends after it has read the summary frame: a `handshake` firmware waits for it
/// (skipping any other byte) before it exits, so the tail of its output is not lost.
pub const HANDSHAKE_ACK: u8 = b'A';

/// CRC-32 (IEEE, as zlib's `crc32` and the `crc32fast` crate): the core's [`tinytrain::crc::crc32`],
/// which also seals checkpoints.
///
/// ```
/// // The CRC-32 check value.
/// assert_eq!(tinytrain_experiments::frame::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub use tinytrain::crc::crc32;

/// The trailer that follows `json` on the wire: `*`, 8 lowercase hex digits of [`crc32`], `\n`.
///
/// ```
/// assert_eq!(&tinytrain_experiments::frame::trailer(b"{}"), b"*a3a6bf43\n");
/// ```
pub fn trailer(json: &[u8]) -> [u8; 10] {
    trailer_of_crc(crc32(json))
}

/// The trailer of a JSON text whose [`crc32`] is `crc` (a frame sent in pieces computes it with
/// [`tinytrain::crc::update`] as they go).
pub fn trailer_of_crc(crc: u32) -> [u8; 10] {
    let mut trailer = *b"*00000000\n";
    for (i, digit) in trailer[1..9].iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[(crc >> (28 - 4 * i) & 0xF) as usize];
    }
    trailer
}

/// Why a line is not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// No `*` followed by 8 hex digits at the end of the line.
    NoTrailer,
    /// The CRC in the trailer differs from the JSON text's.
    Crc {
        /// The CRC the line carries.
        sent: u32,
        /// The CRC of the JSON text as received.
        received: u32,
    },
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::NoTrailer => f.write_str("no `*crc` trailer"),
            FrameError::Crc { sent, received } => {
                write!(
                    f,
                    "CRC mismatch: the frame says {sent:08x}, its JSON gives {received:08x}"
                )
            }
        }
    }
}

/// Checks one line (with or without its `\n` or `\r\n`) and returns its JSON text.
///
/// ```
/// use tinytrain_experiments::frame::{open, FrameError};
/// assert_eq!(open("{}*a3a6bf43\n"), Ok("{}"));
/// assert!(matches!(open("{ }*a3a6bf43"), Err(FrameError::Crc { .. })));
/// assert_eq!(open("{}"), Err(FrameError::NoTrailer));
/// ```
pub fn open(line: &str) -> Result<&str, FrameError> {
    let line = line.trim_end_matches(['\n', '\r']);
    let (json, crc) = line.rsplit_once('*').ok_or(FrameError::NoTrailer)?;
    if crc.len() != 8 || !crc.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FrameError::NoTrailer);
    }
    let sent = u32::from_str_radix(crc, 16).map_err(|_| FrameError::NoTrailer)?;
    let received = crc32(json.as_bytes());
    if sent == received {
        Ok(json)
    } else {
        Err(FrameError::Crc { sent, received })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_crc32fast() {
        let mut bytes = Vec::new();
        for n in 0..600u32 {
            assert_eq!(crc32(&bytes), crc32fast::hash(&bytes), "{n} bytes");
            bytes.push((n.wrapping_mul(2_654_435_761) >> 13) as u8);
        }
    }

    #[test]
    fn a_frame_round_trips_and_damage_is_detected() {
        let json = br#"{"epoch":1,"train_loss":2.038766}"#;
        let mut line = json.to_vec();
        line.extend_from_slice(&trailer(json));
        let text = String::from_utf8(line).unwrap();
        assert_eq!(open(&text), Ok(std::str::from_utf8(json).unwrap()));
        let damaged = text.replace("2.03", "2.13");
        assert!(matches!(open(&damaged), Err(FrameError::Crc { .. })));
    }
}
