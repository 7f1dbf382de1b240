//! FNV-1a, 64 bits: a content key for caches and a binding between a checkpoint and the run it
//! belongs to. Not cryptographic: it tells accidents and edits apart, not attacks.

/// The hash of `parts`, each followed by its length (so `["ab", "c"]` and `["a", "bc"]` differ).
///
/// ```
/// use tinytrain_host::hash::fnv64;
/// assert_eq!(fnv64(&[b""]), fnv64(&[b""]));
/// assert_ne!(fnv64(&[b"ab", b"c"]), fnv64(&[b"a", b"bc"]));
/// ```
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.iter().chain(&(part.len() as u64).to_le_bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}
