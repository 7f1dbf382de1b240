//! The host's defmt stream decoding (`tinytrain_host::decode::decode_defmt_stream`) on arbitrary
//! bytes, with the defmt table of a real firmware ELF: the file named by `TINYTRAIN_FUZZ_ELF`
//! (`scripts/fuzz.sh` builds `firmware/`'s `train_iris` and sets it). Every line that comes out also
//! goes through the `epoch` line parser.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tinytrain_host::decode;

fn elf() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| {
        let path = std::env::var_os("TINYTRAIN_FUZZ_ELF")
            .expect("set TINYTRAIN_FUZZ_ELF to a firmware ELF (scripts/fuzz.sh does)");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()))
    })
}

fuzz_target!(|data: &[u8]| {
    // Fed in two pieces, as bytes arrive from a port, split where the first byte says.
    let split = data
        .first()
        .map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let (head, tail) = data.split_at(split);
    let reader = std::io::Read::chain(head, tail);
    let result = decode::decode_defmt_stream(elf(), reader, |line| {
        let _ = decode::parse_epoch_line(decode::strip_level(line));
        Ok(())
    });
    // The firmware's encoding (rzcobs) recovers from any damage, so decoding never fails.
    result.expect("decoding a stream in a recoverable encoding never fails");
});
