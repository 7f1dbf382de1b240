//! The wire parser (`tinytrain_experiments::wire`) on arbitrary lines: every line is classified
//! (never a panic), a record it accepts is possible (`implausible` finds nothing) and round-trips
//! through its own frame exactly, and a sequence of accepted epochs only goes up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain_experiments::wire::{self, Line, Sequence};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sequence = Sequence::default();
    let mut last = 0;
    for line in text.split('\n') {
        let Some(Line::Epoch(record)) = wire::classify(line) else {
            continue;
        };
        assert_eq!(wire::implausible(&record), None, "{line}");
        let mut frame = [0u8; 1024];
        if let Some(n) = wire::epoch::encode(&record, &mut frame) {
            let json = std::str::from_utf8(&frame[..n]).unwrap();
            let trailer = wire::frame::trailer(json.as_bytes());
            let framed = format!("{json}{}", String::from_utf8_lossy(&trailer));
            match wire::classify(&framed) {
                Some(Line::Epoch(back)) => assert_eq!(
                    wire::bits::RecordBits::of(&back),
                    wire::bits::RecordBits::of(&record)
                ),
                other => panic!("{framed} re-read as {other:?}"),
            }
        }
        if sequence.admit(record.epoch).is_ok() {
            assert!(record.epoch > last);
            last = record.epoch;
        }
    }
});
