//! CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`, initial value and final XOR `0xFFFFFFFF`):
//! zlib's `crc32` and the `crc32fast` crate. It seals the serial frames (`tinytrain-experiments`'
//! `frame` module) and the [checkpoints](crate::checkpoint).

/// The CRC-32 lookup table (one byte per step), computed at compile time.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32 of `bytes`.
///
/// ```
/// // The CRC-32 check value.
/// assert_eq!(tinytrain::crc::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    !update(!0, bytes)
}

/// Continues a CRC over more bytes: `crc32(a ++ b) == !update(update(!0, a), b)`.
pub fn update(crc: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(crc, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}
